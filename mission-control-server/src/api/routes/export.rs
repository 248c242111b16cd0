//! `/api/export`: the board's data out, for people who want it elsewhere.

use mission_control_core::{BoardExport, TaskFilter};

use super::Result;
use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::api::snapshot_stream::{self, Download};
use crate::api::wire::ExportFormat;
use crate::web::error::ErrorBody;
use crate::web::query::Query;

/// The whole board: `format=json` (the default; agents, tasks, comments and the event log, the
/// same file as `mission-control-server export`, importable with `import`) or `format=csv`
/// (the tasks, one row each, safe to open in a spreadsheet: a cell that starts with `=`, `+`,
/// `-` or `@`, also after whitespace, or with a tab or a carriage return, has a `'` put in
/// front so that it is shown as text, never run as a formula). Streamed from one consistent
/// snapshot.
#[utoipa::path(get, path = "/api/export", tag = "export",
    params(("format" = Option<ExportFormat>, Query, description = "`json` (default) or `csv` (formula cells start with `'`)")),
    responses(
        (status = 200, description = "The export: JSON, or CSV with format=csv (a cell a spreadsheet would run as a formula starts with `'`)", content(
            (BoardExport = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn export(ctx: Ctx, caller: Caller) -> Result {
    let format = Query::of(ctx.req.uri())
        .parse::<ExportFormat>("format")?
        .unwrap_or(ExportFormat::Json);
    let slot = ctx.state.slots.take(ctx.client, &caller.token_id)?;
    let what = match format {
        ExportFormat::Csv => Download::ExportCsv,
        ExportFormat::Json => Download::ExportJson,
    };
    snapshot_stream::download(&ctx.state.mc, TaskFilter::default(), what, slot).await
}
