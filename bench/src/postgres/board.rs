//! One board served by several release server processes: SQLite (one process, its file), or
//! PostgreSQL (any number of processes on one fresh database of the cluster).

use std::path::Path;
use std::time::Duration;

use super::cluster::{Cluster, Database};
use crate::server::Server;
use crate::{Res, fresh_db};

pub struct Board {
    pub servers: Vec<Server>,
    /// Dropped (the database with it) once the servers have stopped.
    database: Option<Database>,
}

impl Board {
    /// One process on a fresh SQLite file.
    pub async fn sqlite(bin: &Path, tmp: &Path, name: &str) -> Res<Board> {
        let server = Server::start(bin, &fresh_db(tmp, name)?).await?;
        Ok(Board {
            servers: vec![server],
            database: None,
        })
    }

    /// `processes` processes on a fresh PostgreSQL database, with `extra` environment.
    pub async fn postgres(
        bin: &Path,
        tmp: &Path,
        cluster: &Cluster,
        name: &str,
        processes: usize,
        extra: &[(&str, String)],
    ) -> Res<Board> {
        let database = cluster.database().await?;
        let mut env = extra.to_vec();
        env.push(("DATABASE_URL", database.url.clone()));
        let mut servers = Vec::with_capacity(processes);
        for p in 0..processes {
            let folder = fresh_db(tmp, &format!("{name}-{p}"))?;
            servers.push(Server::start_with(bin, &folder, &env).await?);
        }
        Ok(Board {
            servers,
            database: Some(database),
        })
    }

    pub fn bases(&self) -> Vec<&str> {
        self.servers.iter().map(|s| s.base.as_str()).collect()
    }

    /// The CPU time every process of the board has used so far.
    pub fn cpu_time(&self) -> Duration {
        self.servers.iter().map(Server::cpu_time).sum()
    }

    pub async fn stop(mut self) -> Res<()> {
        for server in self.servers.drain(..) {
            server.stop().await?;
        }
        drop(self.database.take());
        Ok(())
    }
}
