// The dialogs, in one chunk the dashboard loads once the board is up (not needed to show it).
export { TaskDialog } from './TaskDialog';
export { AgentDialog } from './AgentDialog';
export { PeopleDialog } from './PeopleDialog';
export { PasswordDialog } from './PasswordDialog';
