//! The C loopback article on the tour: sendto() against connect() + send() on host a.

use harness::Lan;
use loopback::{Experiment, Fix, SendMethod, Verdict as Where};

use super::{Chapter, Spec, Verdict, verdict, who};

/// This section's title and the book's chapter it belongs to.
pub const SECTION: (&str, &str) = (
    "C: multicast over loopback, sendto() against send()",
    "loopback.md",
);

/// The claims this part checks, as the appendix states them.
pub const CLAIMS: &[Spec] = &[
    Spec {
        article: "C",
        text: "with a /32 route via lo, sendto() follows the route and arrives on lo",
        test: "loopback/tests/suite/experiment.rs::sendto_follows_the_loopback_route",
        expected: Verdict::Holds,
    },
    Spec {
        article: "C",
        text: "a connect()ed socket's send() leaves through the default interface",
        test: "loopback/tests/suite/experiment.rs::connected_send_leaks_to_default_interface",
        expected: Verdict::Holds,
    },
];

/// Adds the article's route on host a (its default route is eth0) and runs the experiment.
pub fn tour(lan: &Lan) -> Result<Chapter, String> {
    let mut chapter = Chapter::new(SECTION);
    let a = lan.host("a");
    let group =
        loopback::group::article(loopback::group::random_port()).map_err(|e| e.to_string())?;
    let route = loopback::group::host_route(&group);
    a.add_route(&route, "lo").map_err(|e| e.to_string())?;
    chapter.say(format!(
        "{}: default route via eth0, route {route} dev lo, a listener joined on lo",
        who(a),
    ));
    let outcome = a
        .run(|| Experiment::article(group).run())
        .map_err(|e| format!("the experiment on a: {e}"))?;
    for send in &outcome.sends {
        chapter.say(format!("{:<18} {}", send.method.calls(), send.verdict));
    }
    let seen = |method| outcome.send(method, Fix::None).map(|s| &s.verdict);
    let evidence = |seen: Option<&Where>| seen.map_or("not tried".into(), ToString::to_string);
    let sendto = seen(SendMethod::SendTo);
    let followed =
        matches!(sendto, Some(Where::FollowedRoute { interface }) if interface.name == "lo");
    chapter.check(
        &CLAIMS[0],
        verdict(followed, Verdict::Wrong),
        evidence(sendto),
    );
    let send = seen(SendMethod::ConnectThenSend);
    let leaked = matches!(send, Some(Where::LeftThrough { interface }) if interface.name == "eth0");
    chapter.check(&CLAIMS[1], verdict(leaked, Verdict::Wrong), evidence(send));
    Ok(chapter)
}
