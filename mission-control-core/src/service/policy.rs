//! Who may do what: the rules every front end applies, written once.
//!
//! - The operator (the person who signs in with the admin password, acting as their own
//!   agent) may do everything: register, rename, re-role and remove agents, mint, list and
//!   revoke any agent's tokens, change any card, and override another agent's claim.
//! - An agent may change only its own card, and there only its status and colour; it may
//!   list and revoke its own tokens.
//! - A task another agent holds (a live claim) may be renamed, described, tagged and
//!   re-prioritised by anyone, but only its holder or the operator may move it, reassign it,
//!   change what it waits for (`blockedBy`: another agent could otherwise make it wait for a
//!   task and stop its holder finishing), give it back or finish it.
//! - Everyone may create tasks and work on unclaimed ones, as the specification has it.

use super::Actor;
use crate::domain::{AgentChanges, Task, TaskChanges};
use crate::error::{Conflict, Error, Result};

/// The rules, for one board: which agent is the operator.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    operator: Option<String>,
}

impl Policy {
    pub fn new(operator: Option<String>) -> Self {
        Policy { operator }
    }

    pub fn is_operator(&self, actor: &Actor) -> bool {
        self.operator.as_deref() == Some(actor.agent_id.as_str())
    }

    /// `None` is the system itself (start-up, the command line): trusted.
    pub fn may_manage_agents(&self, actor: Option<&Actor>) -> Result<()> {
        match actor {
            None => Ok(()),
            Some(a) if self.is_operator(a) => Ok(()),
            Some(_) => Err(Error::Forbidden(
                "only the operator can register, rename, re-role or remove agents",
            )),
        }
    }

    pub fn may_change_agent(
        &self,
        actor: &Actor,
        target: &str,
        changes: &AgentChanges,
    ) -> Result<()> {
        if self.is_operator(actor) {
            return Ok(());
        }
        if actor.agent_id != target {
            return Err(Error::Forbidden("an agent may change only its own card"));
        }
        if changes.name.is_some() || changes.role.is_some() {
            return Err(Error::Forbidden(
                "only the operator can rename an agent or change its role",
            ));
        }
        Ok(())
    }

    pub fn may_remove_agent(&self, actor: Option<&Actor>, target: &str) -> Result<()> {
        self.may_manage_agents(actor)?;
        if self.operator.as_deref() == Some(target) {
            return Err(Error::Forbidden(
                "the operator's own agent cannot be removed",
            ));
        }
        Ok(())
    }

    pub fn may_mint_tokens(&self, actor: Option<&Actor>) -> Result<()> {
        match actor {
            None => Ok(()),
            Some(a) if self.is_operator(a) => Ok(()),
            Some(_) => Err(Error::Forbidden("only the operator can mint agent tokens")),
        }
    }

    pub fn may_manage_tokens_of(&self, actor: Option<&Actor>, agent: &str) -> Result<()> {
        match actor {
            None => Ok(()),
            Some(a) if self.is_operator(a) || a.agent_id == agent => Ok(()),
            Some(_) => Err(Error::Forbidden(
                "an agent may see and revoke only its own tokens",
            )),
        }
    }

    /// Whether `actor` may take over, move or reassign a task someone else holds at `now`.
    pub fn may_override_claim(&self, actor: &Actor, task: &Task, now: i64) -> Result<()> {
        match task.holder_at(now) {
            Some(holder) if holder != actor.agent_id && !self.is_operator(actor) => {
                Err(Error::Conflict(Conflict::Held {
                    task_id: task.id.clone(),
                    holder: holder.to_owned(),
                    expires_at: task.lease_expires_at.unwrap_or(now),
                }))
            }
            _ => Ok(()),
        }
    }

    /// Changes to a claimed task: moving it, reassigning it or changing what it waits for
    /// needs the holder or the operator.
    pub fn may_change_task(
        &self,
        actor: &Actor,
        task: &Task,
        changes: &TaskChanges,
        now: i64,
    ) -> Result<()> {
        let moves = changes.status.is_some_and(|s| s != task.status)
            || changes
                .assigned_agent
                .as_ref()
                .is_some_and(|a| a.as_ref().map(|a| a.as_str()) != task.assigned_agent.as_deref())
            || changes
                .blocked_by
                .as_ref()
                .is_some_and(|b| b.as_slice() != task.blocked_by.as_slice());
        if moves {
            self.may_override_claim(actor, task, now)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgentStatus, TaskStatus};

    fn held_task(holder: &str) -> Task {
        Task {
            id: "task-1".into(),
            title: "T".into(),
            description: None,
            status: TaskStatus::InProgress,
            assigned_agent: Some(holder.into()),
            priority: None,
            created_at: 0,
            updated_at: 0,
            created_by: None,
            tags: vec![],
            version: 1,
            updated_by: None,
            lease_expires_at: Some(1_000),
            blocked_by: vec![],
            blocked: false,
            lease_seconds: Some(1),
        }
    }

    #[test]
    fn agents_change_only_their_own_status_and_colour() {
        let policy = Policy::new(Some("agent-admin".into()));
        let rex = Actor::new("agent-rex");
        let status = AgentChanges::status(AgentStatus::Busy);
        assert!(policy.may_change_agent(&rex, "agent-rex", &status).is_ok());
        assert!(
            policy
                .may_change_agent(&rex, "agent-nova", &status)
                .is_err()
        );
        let rename = AgentChanges {
            name: Some(crate::AgentName::parse("Admin").unwrap()),
            ..Default::default()
        };
        assert!(policy.may_change_agent(&rex, "agent-rex", &rename).is_err());
        let admin = Actor::new("agent-admin");
        assert!(
            policy
                .may_change_agent(&admin, "agent-rex", &rename)
                .is_ok()
        );
        assert!(policy.may_manage_agents(Some(&rex)).is_err());
        assert!(
            policy
                .may_remove_agent(Some(&admin), "agent-admin")
                .is_err()
        );
    }

    #[test]
    fn a_held_task_moves_only_for_its_holder_or_the_operator() {
        let policy = Policy::new(Some("agent-admin".into()));
        let task = held_task("agent-nova");
        let done = TaskChanges::move_to(TaskStatus::Done);
        assert!(
            policy
                .may_change_task(&Actor::new("agent-nova"), &task, &done, 10)
                .is_ok()
        );
        assert!(
            policy
                .may_change_task(&Actor::new("agent-admin"), &task, &done, 10)
                .is_ok()
        );
        let err = policy
            .may_change_task(&Actor::new("agent-rex"), &task, &done, 10)
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(Conflict::Held { .. })));
        // A rename is anyone's; an expired claim protects nothing.
        let rename = TaskChanges {
            title: Some(crate::TaskTitle::parse("New").unwrap()),
            ..Default::default()
        };
        assert!(
            policy
                .may_change_task(&Actor::new("agent-rex"), &task, &rename, 10)
                .is_ok()
        );
        assert!(
            policy
                .may_change_task(&Actor::new("agent-rex"), &task, &done, 2_000)
                .is_ok()
        );
    }

    #[test]
    fn what_a_held_task_waits_for_is_its_holders_or_the_operators_to_change() {
        let policy = Policy::new(Some("agent-admin".into()));
        let mut task = held_task("agent-nova");
        task.blocked_by = vec!["task-a".into()];
        let wait = |ids: &[&str]| TaskChanges {
            blocked_by: Some(
                crate::TaskRefs::parse(ids.iter().map(|s| (*s).to_owned()).collect()).unwrap(),
            ),
            ..Default::default()
        };
        for change in [wait(&["task-a", "task-b"]), wait(&[])] {
            let err = policy
                .may_change_task(&Actor::new("agent-rex"), &task, &change, 10)
                .unwrap_err();
            assert!(matches!(err, Error::Conflict(Conflict::Held { .. })));
            for allowed in ["agent-nova", "agent-admin"] {
                assert!(
                    policy
                        .may_change_task(&Actor::new(allowed), &task, &change, 10)
                        .is_ok()
                );
            }
        }
        // Naming the blockers it has changes nothing, so anyone may send it.
        assert!(
            policy
                .may_change_task(&Actor::new("agent-rex"), &task, &wait(&["task-a"]), 10)
                .is_ok()
        );
    }
}
