//! The article's steps 2 and 7: add a host route that sends the group over `lo`, and remove
//! it at the end.
//!
//! The article's `run.sh` does `route add 224.16.17.8/32 via 127.0.0.1 dev lo` before the
//! experiment and `route del` after it. [`HostRoute::add`] does the same with `ip route`
//! (iproute2, the tool people type), and removes the route when dropped. It uses `ip route
//! replace`, so that a route left behind by an interrupted run is taken over rather than
//! refused. Run it only in a throwaway network namespace (see [`crate::namespace`]): a
//! route there changes nothing outside.

use std::fmt;
use std::io;
use std::process::Command;

use mcast_vocab::Group;

use crate::group::host_route;

/// Why a route could not be added.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// `ip` could not be started (iproute2 missing?).
    #[error("cannot run `ip route replace {route}` (is iproute2 installed?): {cause}")]
    NoIp {
        /// The route, as `ip route` writes it.
        route: String,
        /// Why `ip` did not start.
        cause: io::Error,
    },
    /// `ip` refused (no `CAP_NET_ADMIN` here, or no such interface).
    #[error("`ip route replace {route}` failed: {message}")]
    Refused {
        /// The route, as `ip route` writes it.
        route: String,
        /// What `ip` printed.
        message: String,
    },
}

/// A host route for one group via one interface, removed again when dropped (step 7).
#[derive(Debug)]
pub struct HostRoute {
    route: String,
}

impl HostRoute {
    /// `ip route replace GROUP/32 dev INTERFACE` (`/128` for IPv6) in the calling thread's
    /// network namespace: the article's step 2.
    pub fn add(group: &Group, interface: &str) -> Result<HostRoute, RouteError> {
        let route = format!("{} dev {interface}", host_route(group));
        let output = ip_route("replace", &route).map_err(|cause| RouteError::NoIp {
            route: route.clone(),
            cause,
        })?;
        if !output.status.success() {
            return Err(RouteError::Refused {
                message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
                route,
            });
        }
        Ok(HostRoute { route })
    }
}

fn ip_route(verb: &str, route: &str) -> io::Result<std::process::Output> {
    Command::new("ip")
        .args(["route", verb])
        .args(route.split(' '))
        .output()
}

/// `224.16.17.8/32 dev lo`, as `ip route` writes it.
impl fmt::Display for HostRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.route)
    }
}

impl Drop for HostRoute {
    /// The article's step 7, `route del`. A failure is not reported: the namespace is a
    /// throwaway one, and the route goes with it.
    fn drop(&mut self) {
        let _ = ip_route("del", &self.route);
    }
}
