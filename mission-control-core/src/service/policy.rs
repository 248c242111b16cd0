//! Who may do what: every permission on the board, decided here and nowhere else. Each door
//! (REST, MCP, the command line, an embedding program) asks [`Policy::allows`] with who is
//! acting ([`Actor`]: a person with an access role, or an agent's token; `None` for the system
//! itself), what they want to do ([`Action`]) and what to ([`Target`]).
//!
//! - An `admin` (the operator from the environment is always one) may do everything: manage
//!   people, register, rename, re-role and remove agents, mint, list and revoke any agent's
//!   tokens, change any card, and override another agent's claim.
//! - A `member` works on the board: tasks, claims, comments, heartbeats, their own card's
//!   status and colour, their own tokens (sessions).
//! - A `viewer` reads the board and watches it live; every change is refused, naming the role
//!   (but their own password and sessions, which are theirs to look after).
//! - An agent's token works on the board as a member does, and cannot manage people, agents
//!   or tokens other than its own.
//! - A task another agent holds (a live claim) may be renamed, described, tagged and
//!   re-prioritised by anyone who works on the board, but only its holder or an admin may move
//!   it, reassign it, change what it waits for (`blockedBy`: another agent could otherwise make
//!   it wait for a task and stop its holder finishing), give it back or finish it.
//! - Nobody may remove, disable or change the role of the operator's account, nor their own
//!   (an admin cannot lock the board out of its last admin by mistake).
//!
//! Boards and tokens limited to boards or to reading will be further inputs here: a board on
//! [`Target`], and the token's limits on [`Principal::Agent`].

use super::Actor;
use crate::domain::{Access, AgentChanges, PersonChanges, Task, TaskChanges};
use crate::error::{Conflict, Error, Result};

/// Who an actor is, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A person signed in with their password, with their access role.
    Person(Access),
    /// An agent acting with a token minted for it.
    Agent,
}

/// What an actor wants to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// See the board (tasks, comments, agents, the feed, an export) and watch it live.
    Read,
    /// Change the board's work: create, change or delete tasks, claim, release, complete,
    /// comment, send a heartbeat.
    Work,
    /// Change a task ([`Target::Task`]): moving a held one needs its holder or an admin.
    ChangeTask(&'a TaskChanges),
    /// Take over, give back or finish a task someone else may hold ([`Target::Task`]).
    TakeOver,
    /// Send a heartbeat for an agent ([`Target::Agent`]): a sign of life is one's own.
    Heartbeat,
    /// Register an agent.
    RegisterAgent,
    /// Change an agent's card ([`Target::Agent`]).
    ChangeAgent(&'a AgentChanges),
    /// Remove an agent ([`Target::Agent`]).
    RemoveAgent,
    /// Mint a token for an agent.
    MintToken,
    /// List or revoke an agent's tokens ([`Target::Agent`]).
    ManageTokens,
    /// Add people, list them.
    ManagePeople,
    /// Change a person's name, role or whether they may sign in ([`Target::Person`]).
    ChangePerson(&'a PersonChanges),
    /// Remove a person ([`Target::Person`]).
    RemovePerson,
    /// Change one's own password.
    ChangeOwnPassword,
}

/// What an action is done to.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The board as a whole.
    Board,
    /// A task, as it is at `now` (epoch milliseconds).
    Task { task: &'a Task, now: i64 },
    /// An agent's card (a person's card too), by id.
    Agent(&'a str),
    /// A person, by id (their card's id).
    Person(&'a str),
}

/// The rules, for one board: which agent is the operator.
#[derive(Debug, Clone)]
pub struct Policy {
    operator: Option<String>,
}

/// What the checks compare: a person's access role, or an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Admin,
    Member,
    Viewer,
    Agent,
}

impl Policy {
    pub fn new(operator: Option<String>) -> Self {
        Policy { operator }
    }

    /// Whether `agent_id` is the operator's own card.
    pub fn is_operator_card(&self, agent_id: &str) -> bool {
        self.operator.as_deref() == Some(agent_id)
    }

    /// Whether `actor` may do everything (an admin, or the operator).
    pub fn is_admin(&self, actor: &Actor) -> bool {
        self.standing(actor) == Standing::Admin
    }

    fn standing(&self, actor: &Actor) -> Standing {
        if self.is_operator_card(&actor.agent_id) {
            return Standing::Admin;
        }
        match actor.principal {
            Principal::Person(Access::Admin) => Standing::Admin,
            Principal::Person(Access::Member) => Standing::Member,
            Principal::Person(Access::Viewer) => Standing::Viewer,
            Principal::Agent => Standing::Agent,
        }
    }

    /// Whether `actor` (`None`: the system itself, trusted) may do `action` to `target`; the
    /// error says why not.
    pub fn allows(
        &self,
        actor: Option<&Actor>,
        action: Action<'_>,
        target: Target<'_>,
    ) -> Result<()> {
        let Some(actor) = actor else {
            return Ok(());
        };
        let standing = self.standing(actor);
        Self::role_allows(standing, &action)?;
        let admin = standing == Standing::Admin;
        let own = |id: &str| actor.agent_id == id;
        match (action, target) {
            (Action::ChangeTask(changes), Target::Task { task, now }) if moves(task, changes) => {
                self.may_take_over(actor, admin, task, now)?;
            }
            (Action::TakeOver, Target::Task { task, now }) => {
                self.may_take_over(actor, admin, task, now)?;
            }
            (Action::Heartbeat, Target::Agent(id)) if !own(id) => {
                return Err(Error::Forbidden(
                    "a heartbeat is an agent's own sign of life: use your own id or `me`",
                ));
            }
            (Action::ChangeAgent(changes), Target::Agent(id)) if !admin => {
                if !own(id) {
                    return Err(Error::Forbidden("an agent may change only its own card"));
                }
                if changes.name.is_some() || changes.role.is_some() {
                    return Err(Error::Forbidden(
                        "only an admin can rename an agent or change its role",
                    ));
                }
            }
            (Action::RemoveAgent, Target::Agent(id)) if self.is_operator_card(id) => {
                return Err(Error::Forbidden(
                    "the operator's own agent cannot be removed",
                ));
            }
            (Action::ManageTokens, Target::Agent(id)) if !admin && !own(id) => {
                return Err(Error::Forbidden(
                    "an agent may see and revoke only its own tokens",
                ));
            }
            (Action::ChangePerson(changes), Target::Person(id)) if changes.changes_access() => {
                if self.is_operator_card(id) {
                    return Err(Error::Forbidden(
                        "the operator's role and sign-in come from the server's environment",
                    ));
                }
                if own(id) {
                    return Err(Error::Forbidden(
                        "an admin cannot change their own role or disable themselves",
                    ));
                }
            }
            (Action::RemovePerson, Target::Person(id)) => {
                if self.is_operator_card(id) {
                    return Err(Error::Forbidden("the operator's account cannot be removed"));
                }
                if own(id) {
                    return Err(Error::Forbidden("an admin cannot remove themselves"));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// What each standing may do at all, whatever the target.
    fn role_allows(standing: Standing, action: &Action<'_>) -> Result<()> {
        use Action::*;
        let refused = match (standing, action) {
            (Standing::Admin, _) => None,
            (_, Read) => None,
            // Their own password and sessions: a viewer may end a session they lost.
            (Standing::Viewer, ChangeOwnPassword | ManageTokens) => None,
            (Standing::Viewer, _) => {
                Some("a viewer can read the board and watch it, not change it")
            }
            (Standing::Agent, ManagePeople | ChangePerson(_) | RemovePerson) => {
                Some("an agent's token cannot manage people")
            }
            (Standing::Agent, ChangeOwnPassword) => {
                Some("an agent has tokens, not a password: only people change passwords")
            }
            (_, ManagePeople | ChangePerson(_) | RemovePerson) => {
                Some("only an admin can manage people")
            }
            (_, RegisterAgent | RemoveAgent) => {
                Some("only an admin can register, rename, re-role or remove agents")
            }
            (_, MintToken) => Some("only an admin can mint agent tokens"),
            (
                _,
                Work | ChangeTask(_) | TakeOver | Heartbeat | ChangeAgent(_) | ManageTokens
                | ChangeOwnPassword,
            ) => None,
        };
        refused.map_or(Ok(()), |why| Err(Error::Forbidden(why)))
    }

    /// Whether `actor` may take over, move or reassign `task` at `now`.
    fn may_take_over(&self, actor: &Actor, admin: bool, task: &Task, now: i64) -> Result<()> {
        match task.holder_at(now) {
            Some(holder) if holder != actor.agent_id && !admin => {
                Err(Error::Conflict(Conflict::Held {
                    task_id: task.id.clone(),
                    holder: holder.to_owned(),
                    expires_at: task.lease_expires_at.unwrap_or(now),
                }))
            }
            _ => Ok(()),
        }
    }
}

/// Whether the changes move a task, reassign it or change what it waits for.
fn moves(task: &Task, changes: &TaskChanges) -> bool {
    changes.status.is_some_and(|s| s != task.status)
        || changes
            .assigned_agent
            .as_ref()
            .is_some_and(|a| a.as_ref().map(|a| a.as_str()) != task.assigned_agent.as_deref())
        || changes
            .blocked_by
            .as_ref()
            .is_some_and(|b| b.as_slice() != task.blocked_by.as_slice())
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

    fn policy() -> Policy {
        Policy::new(Some("agent-admin".into()))
    }

    fn may(actor: &Actor, action: Action<'_>, target: Target<'_>) -> bool {
        policy().allows(Some(actor), action, target).is_ok()
    }

    #[test]
    fn agents_change_only_their_own_status_and_colour() {
        let rex = Actor::new("agent-rex");
        let status = AgentChanges::status(AgentStatus::Busy);
        assert!(may(
            &rex,
            Action::ChangeAgent(&status),
            Target::Agent("agent-rex")
        ));
        assert!(!may(
            &rex,
            Action::ChangeAgent(&status),
            Target::Agent("agent-nova")
        ));
        let rename = AgentChanges {
            name: Some(crate::AgentName::parse("Admin").unwrap()),
            ..Default::default()
        };
        assert!(!may(
            &rex,
            Action::ChangeAgent(&rename),
            Target::Agent("agent-rex")
        ));
        let admin = Actor::new("agent-admin");
        assert!(may(
            &admin,
            Action::ChangeAgent(&rename),
            Target::Agent("agent-rex")
        ));
        assert!(!may(&rex, Action::RegisterAgent, Target::Board));
        assert!(!may(
            &admin,
            Action::RemoveAgent,
            Target::Agent("agent-admin")
        ));
    }

    #[test]
    fn a_held_task_moves_only_for_its_holder_or_an_admin() {
        let task = held_task("agent-nova");
        let done = TaskChanges::move_to(TaskStatus::Done);
        let at = |now| Target::Task { task: &task, now };
        assert!(may(
            &Actor::new("agent-nova"),
            Action::ChangeTask(&done),
            at(10)
        ));
        assert!(may(
            &Actor::new("agent-admin"),
            Action::ChangeTask(&done),
            at(10)
        ));
        let boss = Actor::person("agent-boss", Access::Admin);
        assert!(may(&boss, Action::ChangeTask(&done), at(10)));
        let err = policy()
            .allows(
                Some(&Actor::new("agent-rex")),
                Action::ChangeTask(&done),
                at(10),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(Conflict::Held { .. })));
        let member = Actor::person("agent-mel", Access::Member);
        assert!(!may(&member, Action::TakeOver, at(10)));
        // A rename is anyone's; an expired claim protects nothing.
        let rename = TaskChanges {
            title: Some(crate::TaskTitle::parse("New").unwrap()),
            ..Default::default()
        };
        assert!(may(
            &Actor::new("agent-rex"),
            Action::ChangeTask(&rename),
            at(10)
        ));
        assert!(may(
            &Actor::new("agent-rex"),
            Action::ChangeTask(&done),
            at(2_000)
        ));
    }

    #[test]
    fn what_a_held_task_waits_for_is_its_holders_or_an_admins_to_change() {
        let mut task = held_task("agent-nova");
        task.blocked_by = vec!["task-a".into()];
        let wait = |ids: &[&str]| TaskChanges {
            blocked_by: Some(
                crate::TaskRefs::parse(ids.iter().map(|s| (*s).to_owned()).collect()).unwrap(),
            ),
            ..Default::default()
        };
        let at = Target::Task {
            task: &task,
            now: 10,
        };
        for change in [wait(&["task-a", "task-b"]), wait(&[])] {
            assert!(!may(
                &Actor::new("agent-rex"),
                Action::ChangeTask(&change),
                at
            ));
            for allowed in ["agent-nova", "agent-admin"] {
                assert!(may(&Actor::new(allowed), Action::ChangeTask(&change), at));
            }
        }
        // Naming the blockers it has changes nothing, so anyone may send it.
        let same = wait(&["task-a"]);
        assert!(may(&Actor::new("agent-rex"), Action::ChangeTask(&same), at));
    }

    /// Every standing against every kind of action on the board as a whole.
    #[test]
    fn what_each_role_may_do() {
        let changes = PersonChanges::default();
        let card = AgentChanges::status(AgentStatus::Busy);
        let admin = Actor::person("agent-boss", Access::Admin);
        let member = Actor::person("agent-mel", Access::Member);
        let viewer = Actor::person("agent-vic", Access::Viewer);
        let agent = Actor::new("agent-rex");
        // (action, admin, member, viewer, agent)
        let table: &[(Action<'_>, [bool; 4])] = &[
            (Action::Read, [true, true, true, true]),
            (Action::Work, [true, true, false, true]),
            (Action::RegisterAgent, [true, false, false, false]),
            (Action::MintToken, [true, false, false, false]),
            (Action::ManagePeople, [true, false, false, false]),
            (Action::ChangePerson(&changes), [true, false, false, false]),
            (Action::RemovePerson, [true, false, false, false]),
            (Action::ChangeOwnPassword, [true, true, true, false]),
        ];
        for (action, expected) in table {
            let got = [&admin, &member, &viewer, &agent].map(|a| may(a, *action, Target::Board));
            assert_eq!(&got, expected, "{action:?}");
        }
        // Their own cards and tokens: members and agents too, viewers not.
        for actor in [&member, &agent] {
            let own = Target::Agent(&actor.agent_id);
            assert!(may(actor, Action::ChangeAgent(&card), own));
            assert!(may(actor, Action::ManageTokens, own));
            assert!(!may(
                actor,
                Action::ManageTokens,
                Target::Agent("agent-other")
            ));
        }
        let own = Target::Agent(&viewer.agent_id);
        assert!(!may(&viewer, Action::ChangeAgent(&card), own));
        assert!(may(&viewer, Action::ManageTokens, own));
        assert!(!may(&viewer, Action::Heartbeat, own));
        // A heartbeat speaks for the caller only, an admin's too.
        assert!(!may(&admin, Action::Heartbeat, Target::Agent("agent-rex")));
        assert!(may(&agent, Action::Heartbeat, Target::Agent("agent-rex")));
        let err = policy()
            .allows(Some(&viewer), Action::Work, Target::Board)
            .unwrap_err();
        assert!(err.to_string().contains("viewer"), "{err}");
    }

    #[test]
    fn nobody_locks_out_the_operator_or_themselves() {
        let boss = Actor::person("agent-boss", Access::Admin);
        let demote = PersonChanges {
            access: Some(Access::Viewer),
            ..Default::default()
        };
        let rename = PersonChanges {
            name: Some(crate::AgentName::parse("Boss").unwrap()),
            ..Default::default()
        };
        for id in ["agent-admin", "agent-boss"] {
            assert!(!may(
                &boss,
                Action::ChangePerson(&demote),
                Target::Person(id)
            ));
            assert!(!may(&boss, Action::RemovePerson, Target::Person(id)));
            assert!(may(
                &boss,
                Action::ChangePerson(&rename),
                Target::Person(id)
            ));
        }
        assert!(may(
            &boss,
            Action::ChangePerson(&demote),
            Target::Person("agent-mel")
        ));
        assert!(
            policy()
                .allows(None, Action::RemovePerson, Target::Person("agent-boss"))
                .is_ok()
        );
    }
}
