//! Dropping root after binding: `fedns serve --user fedns` binds port 53 as
//! root (or with CAP_NET_BIND_SERVICE) and then runs as an unprivileged user.
//!
//! Order matters (as in every daemon that does this): supplementary groups
//! are cleared and the group set before the user, because after `setuid`
//! the process may no longer change its groups. glibc applies each call to
//! every thread of the process.

use std::ffi::CString;

/// Why privileges could not be dropped.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// No such user in the system's user database.
    #[error("no user named {0:?} (create it, e.g. `useradd --system fedns`)")]
    NoSuchUser(String),
    /// The name cannot be a user name.
    #[error("{0:?} is not a valid user name")]
    BadName(String),
    /// A system call failed (typically: not running as root).
    #[error("cannot switch to user {user:?}: {call} failed: {cause}")]
    Syscall {
        /// The user.
        user: String,
        /// Which call.
        call: &'static str,
        /// The OS error.
        cause: std::io::Error,
    },
}

/// Switches the whole process to `user` and its primary group.
#[cfg(unix)]
pub fn drop_privileges(user: &str) -> Result<(u32, u32), PrivilegeError> {
    let name = CString::new(user).map_err(|_| PrivilegeError::BadName(user.into()))?;
    // SAFETY: getpwnam returns a pointer into static storage or null; the
    // fields are read at once, before any other call that could reuse it.
    let (uid, gid) = unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(PrivilegeError::NoSuchUser(user.into()));
        }
        ((*pw).pw_uid, (*pw).pw_gid)
    };
    let fail = |call| PrivilegeError::Syscall {
        user: user.into(),
        call,
        cause: std::io::Error::last_os_error(),
    };
    // SAFETY: plain system calls with valid arguments.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(fail("setgroups"));
        }
        if libc::setgid(gid) != 0 {
            return Err(fail("setgid"));
        }
        if libc::setuid(uid) != 0 {
            return Err(fail("setuid"));
        }
    }
    Ok((uid, gid))
}

/// Not supported off Unix.
#[cfg(not(unix))]
pub fn drop_privileges(user: &str) -> Result<(u32, u32), PrivilegeError> {
    Err(PrivilegeError::NoSuchUser(user.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_users_and_bad_names_are_errors() {
        assert!(matches!(
            drop_privileges("no-such-user-fedns-test"),
            Err(PrivilegeError::NoSuchUser(_))
        ));
        assert!(matches!(
            drop_privileges("bad\0name"),
            Err(PrivilegeError::BadName(_))
        ));
    }
}
