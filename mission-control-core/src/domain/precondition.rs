//! A conditional write's precondition: the versions of a task the write may apply to (what an
//! HTTP `If-Match` list names), so that a change made on a stale read is refused rather than
//! lost.

/// The versions of a task a conditional write may apply to: it is refused with
/// [`crate::Error::Stale`] unless the task is at one of them. It may name none (every entity
/// tag the client sent was weak, or not one of ours): then no version meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedVersions(Vec<i64>);

impl ExpectedVersions {
    /// The task must be at `version`.
    pub fn one(version: i64) -> Self {
        ExpectedVersions(vec![version])
    }

    /// The task must be at one of `versions` (none: no version will do).
    pub fn any_of(versions: impl IntoIterator<Item = i64>) -> Self {
        let mut versions: Vec<i64> = versions.into_iter().collect();
        versions.sort_unstable();
        versions.dedup();
        ExpectedVersions(versions)
    }

    /// Whether a task at `version` meets the precondition.
    pub fn admits(&self, version: i64) -> bool {
        self.0.binary_search(&version).is_ok()
    }

    /// The versions named, lowest first.
    pub fn versions(&self) -> &[i64] {
        &self.0
    }
}

impl From<i64> for ExpectedVersions {
    fn from(version: i64) -> Self {
        Self::one(version)
    }
}

impl std::fmt::Display for ExpectedVersions {
    /// `version 3`, `versions 2, 3 or 4`, or `no version of ours`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("no version of ours"),
            [one] => write!(f, "version {one}"),
            [first @ .., last] => {
                let first: Vec<String> = first.iter().map(i64::to_string).collect();
                write!(f, "versions {} or {last}", first.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExpectedVersions;

    #[test]
    fn a_task_meets_it_at_one_of_the_versions_named() {
        let list = ExpectedVersions::any_of([4, 2, 4]);
        assert!(list.admits(2) && list.admits(4));
        assert!(!list.admits(3));
        assert_eq!(list.versions(), [2, 4]);
        assert_eq!(list.to_string(), "versions 2 or 4");
        assert_eq!(
            ExpectedVersions::any_of([3, 1, 2]).to_string(),
            "versions 1, 2 or 3"
        );
        assert_eq!(ExpectedVersions::one(7).to_string(), "version 7");
        let none = ExpectedVersions::any_of([]);
        assert!(!none.admits(1));
        assert_eq!(none.to_string(), "no version of ours");
    }
}
