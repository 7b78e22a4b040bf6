//! The box every step runs in: bubblewrap (`bwrap`) with namespaces of its
//! own (user, mount, PID, IPC, UTS, cgroup), the system read-only, and of
//! the server's files only the ones the step must use. A step's code (a
//! repository's `build.sh`, its npm scripts) reaches no database, no data
//! folder, no other deployment and no home folder of the server.
//!
//! Its own PID namespace means nothing of a step outlives it: when the
//! step's shell exits, is cancelled or the server dies (`--die-with-parent`),
//! every process in the box is killed, `setsid` or not.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// How one of the server's paths is shown inside the box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A path of the server the step may use, at the same path inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub path: PathBuf,
    pub access: Access,
}

/// The system folders a step sees, read-only: programs and libraries.
const SYSTEM: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt",
];

/// What of `/etc` a step sees: name resolution, certificates, users and
/// groups (no passwords), the alternatives programs are reached through.
/// Nothing else of the host's configuration (keys, shadow files, sudoers).
const ETC: &[&str] = &[
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/etc/debian_version",
    "/etc/gai.conf",
    "/etc/group",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/os-release",
    "/etc/passwd",
    "/etc/protocols",
    "/etc/resolv.conf",
    "/etc/services",
    "/etc/ssl",
    "/etc/timezone",
];

/// A working bubblewrap, whether boxed steps may use the network, and the
/// data folder, which a box never shows but for the places bound into it.
#[derive(Clone, Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    network: bool,
    data: PathBuf,
}

impl Sandbox {
    /// Finds `bwrap` on the `PATH` and checks that it can make a box here
    /// (user namespaces on); the error says how to fix it.
    pub fn detect(network: bool, data: &Path) -> Result<Self, String> {
        let bwrap = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join("bwrap"))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                "bubblewrap (bwrap) is not installed: install it (Debian: apt-get install bubblewrap), \
                 or start with FLIGHTDECK_SANDBOX=off to run steps without a sandbox"
                    .to_string()
            })?;
        let sandbox = Self {
            bwrap,
            network,
            data: data.to_path_buf(),
        };
        let probe = tempfile_dir()?;
        let mut cmd = sandbox.command(&probe, &[], "true");
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", sandbox.bwrap.display()))?;
        let _ = std::fs::remove_dir_all(&probe);
        if !out.status.success() {
            return Err(format!(
                "bubblewrap cannot make a sandbox here ({}): user namespaces may be off \
                 (sysctl kernel.unprivileged_userns_clone=1), or start with FLIGHTDECK_SANDBOX=off \
                 to run steps without a sandbox",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(sandbox)
    }

    /// `sh -c command` in a box, in `workspace` (read-write), with `mounts`.
    pub fn command(
        &self,
        workspace: &Path,
        mounts: &[Mount],
        command: &str,
    ) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.bwrap);
        cmd.args(self.args(workspace, mounts))
            .arg("--")
            .arg("/bin/sh")
            .arg("-c")
            .arg(command);
        cmd
    }

    /// bwrap's arguments, before `--`.
    pub fn args(&self, workspace: &Path, mounts: &[Mount]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--hostname",
            "flightdeck-step",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if !self.network {
            args.push("--unshare-net".into());
        }
        for path in SYSTEM.iter().chain(ETC) {
            system_path(Path::new(path), &mut args);
        }
        for arg in [
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp",
        ] {
            args.push(arg.into());
        }
        // A data folder under a system folder (`/opt/flightdeck/data`)
        // would be shown whole with it: an empty folder covers it, and the
        // step's places are bound on top.
        args.push("--tmpfs".into());
        args.push(self.data.display().to_string());
        let mut bind = |flag: &str, path: &Path| {
            args.push(flag.into());
            args.push(path.display().to_string());
            args.push(path.display().to_string());
        };
        bind("--bind", workspace);
        for m in mounts {
            let flag = match m.access {
                Access::Read => "--ro-bind",
                Access::Write => "--bind",
            };
            bind(flag, &m.path);
        }
        args.push("--chdir".into());
        args.push(workspace.display().to_string());
        args
    }
}

/// A system path as it is on the host: a link stays a link (`/bin ->
/// usr/bin`), a folder or file is bound read-only, a missing one is left out.
fn system_path(path: &Path, args: &mut Vec<String>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let shown = path.display().to_string();
    if meta.file_type().is_symlink() {
        let Ok(target) = std::fs::read_link(path) else {
            return;
        };
        // A link into the parts a step sees is kept; one elsewhere is
        // bound as what it resolves to (`/etc/resolv.conf -> /run/...`).
        let resolved = path.parent().unwrap_or(Path::new("/")).join(&target);
        let inside = SYSTEM
            .iter()
            .any(|s| resolved.starts_with(s) || target.starts_with(s.trim_start_matches('/')));
        if inside {
            args.extend(["--symlink".into(), target.display().to_string(), shown]);
        } else if let Ok(real) = std::fs::canonicalize(path) {
            args.extend(["--ro-bind".into(), real.display().to_string(), shown]);
        }
    } else {
        args.extend(["--ro-bind".into(), shown.clone(), shown]);
    }
}

/// An empty folder of its own to probe the sandbox in.
fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("flightdeck-probe-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(network: bool) -> Sandbox {
        Sandbox {
            bwrap: "/usr/bin/bwrap".into(),
            network,
            data: "/srv/fd".into(),
        }
    }

    #[test]
    fn a_box_shows_the_system_read_only_and_only_the_mounts_it_is_given() {
        let mounts = [
            Mount {
                path: "/srv/fd/releases/R".into(),
                access: Access::Write,
            },
            Mount {
                path: "/srv/fd/archives/A".into(),
                access: Access::Read,
            },
        ];
        let args = sandbox(true).args(Path::new("/srv/fd/workspaces/W"), &mounts);
        let joined = args.join(" ");
        for part in [
            "--unshare-user",
            "--unshare-pid",
            "--die-with-parent",
            "--bind /srv/fd/workspaces/W /srv/fd/workspaces/W",
            "--bind /srv/fd/releases/R /srv/fd/releases/R",
            "--ro-bind /srv/fd/archives/A /srv/fd/archives/A",
            "--tmpfs /tmp",
            "--tmpfs /srv/fd",
            "--chdir /srv/fd/workspaces/W",
        ] {
            assert!(joined.contains(part), "{part} in {joined}");
        }
        assert!(
            !joined.contains("--unshare-net"),
            "the network is on by default"
        );
        assert!(
            sandbox(false)
                .args(Path::new("/w"), &[])
                .contains(&"--unshare-net".to_string())
        );
        // Nothing of the server's own folders but what was asked for.
        for absent in [
            "/root",
            "/home",
            "/srv/fd/flightdeck.db",
            "/etc/shadow",
            "/var/lib",
        ] {
            assert!(
                !args.iter().any(|a| a == absent),
                "{absent} must not be in the box: {joined}"
            );
        }
        // `/etc` is never bound whole.
        assert!(
            !args
                .windows(2)
                .any(|w| w[0] == "--ro-bind" && w[1] == "/etc")
        );
    }
}
