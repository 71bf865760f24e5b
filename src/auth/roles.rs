//! The six roles of IT Glue and the one permission table (DESIGN.md section 4).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Administrator,
    Manager,
    Editor,
    Creator,
    Lite,
    ReadOnly,
}

/// What a request wants to do; every route names one (or is public).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// View organizations and their records (within the user's access).
    ViewOrganizations,
    /// Create organizations (also needs access to all organizations).
    CreateOrganizations,
    /// Create and edit records; edit organizations.
    EditRecords,
    /// Delete one organization or record; Disable sync.
    DeleteOne,
    /// Bulk delete; Manage Data (orphans); restore a deleted organization.
    ManageData,
    /// Organization types and statuses, flexible asset types.
    ManageSettings,
    /// PSA settings, Sync now, Preview sync (a data load writes every organization).
    ManagePsa,
    /// Users, roles and organization access (Managers: not Administrators).
    ManageUsers,
    /// Security settings: requiring two-factor sign-in of every user.
    ManageSecurity,
    /// API keys (Administrators only: a key may act as any user).
    ManageApiKeys,
    /// Import another tool's export (Administrators only: it writes every organization).
    ImportData,
}

impl Action {
    /// Actions that show or change every organization (a data load, an import, a key that may act
    /// as any user): a user restricted to some organizations may not take them, whatever the role.
    pub fn spans_every_organization(self) -> bool {
        matches!(
            self,
            Action::ManagePsa | Action::ManageApiKeys | Action::ImportData
        )
    }
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Administrator,
        Role::Manager,
        Role::Editor,
        Role::Creator,
        Role::Lite,
        Role::ReadOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Manager => "manager",
            Role::Editor => "editor",
            Role::Creator => "creator",
            Role::Lite => "lite",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Manager => "Manager",
            Role::Editor => "Editor",
            Role::Creator => "Creator",
            Role::Lite => "Lite",
            Role::ReadOnly => "Read-only",
        }
    }

    /// The roles that a user of this role may give to others (and whose holders they may manage).
    pub fn can_manage(self, other: Role) -> bool {
        match self {
            Role::Administrator => true,
            Role::Manager => other != Role::Administrator,
            _ => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.label().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role {s:?}; choose one of {}", names.join(", "))
            })
    }
}

/// The permission table. Organization access is checked on top of it, in the queries.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ViewOrganizations => true,
        CreateOrganizations | EditRecords => {
            matches!(role, Administrator | Manager | Editor | Creator)
        }
        DeleteOne => matches!(role, Administrator | Manager | Editor),
        ManageData | ManageSettings | ManagePsa | ManageUsers => {
            matches!(role, Administrator | Manager)
        }
        ManageSecurity => role == Administrator,
        ManageApiKeys => role == Administrator,
        ImportData => role == Administrator,
    }
}

/// Why a user may not take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The role's row of the table says no.
    Role,
    /// The role would do, but the action spans every organization and the user sees only some.
    Scope,
}

impl Denied {
    /// What the refusal tells the user.
    pub fn reason(self) -> &'static str {
        match self {
            Denied::Role => "",
            Denied::Scope => {
                "This acts on every organization: only users with access to all organizations \
                 can use it. Ask an Administrator who sees all organizations."
            }
        }
    }
}

/// The permission table for a user: the role's row, and access to all organizations for the
/// actions that span every organization.
pub fn check(role: Role, all_organizations: bool, action: Action) -> Result<(), Denied> {
    if !allowed(role, action) {
        Err(Denied::Role)
    } else if !all_organizations && action.spans_every_organization() {
        Err(Denied::Scope)
    } else {
        Ok(())
    }
}

/// `check` as a yes or no (what the navigation shows).
pub fn permitted(role: Role, all_organizations: bool, action: Action) -> bool {
    check(role, all_organizations, action).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_design() {
        use Action::*;
        // Rows of DESIGN.md section 4, columns in Role::ALL order.
        let rows = [
            (ViewOrganizations, [true, true, true, true, true, true]),
            (CreateOrganizations, [true, true, true, true, false, false]),
            (EditRecords, [true, true, true, true, false, false]),
            (DeleteOne, [true, true, true, false, false, false]),
            (ManageData, [true, true, false, false, false, false]),
            (ManageSettings, [true, true, false, false, false, false]),
            (ManagePsa, [true, true, false, false, false, false]),
            (ManageUsers, [true, true, false, false, false, false]),
            (ManageSecurity, [true, false, false, false, false, false]),
            (ManageApiKeys, [true, false, false, false, false, false]),
            (ImportData, [true, false, false, false, false, false]),
        ];
        for (action, expected) in rows {
            for (role, want) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(allowed(role, action), want, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn a_restricted_user_never_takes_an_action_that_spans_every_organization() {
        use Action::*;
        for role in Role::ALL {
            for action in [ManagePsa, ManageApiKeys, ImportData] {
                assert!(!permitted(role, false, action), "{role:?} {action:?}");
                assert_eq!(permitted(role, true, action), allowed(role, action));
            }
            assert_eq!(check(Role::Manager, false, ManagePsa), Err(Denied::Scope));
            assert_eq!(check(Role::Editor, true, ManagePsa), Err(Denied::Role));
            for action in [
                ViewOrganizations,
                EditRecords,
                ManageData,
                ManageSettings,
                ManageUsers,
            ] {
                assert_eq!(permitted(role, false, action), allowed(role, action));
            }
        }
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
