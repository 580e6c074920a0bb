//! The C loopback article on the tour: sendto() against connect() + send() on host a.

use harness::Lan;
use loopback::{Experiment, Fix, SendMethod, Verdict as Where};

use super::{Chapter, Spec, Verdict, who};

/// The claims this part checks, as the appendix states them.
pub const CLAIMS: &[Spec] = &[
    Spec {
        article: "C",
        text: "with a /32 route via lo, sendto() follows the route and arrives on lo",
        test: "loopback/tests/experiment.rs::sendto_follows_the_loopback_route",
        expected: Verdict::Holds,
    },
    Spec {
        article: "C",
        text: "a connect()ed socket's send() leaves through the default interface",
        test: "loopback/tests/experiment.rs::connected_send_leaks_to_default_interface",
        expected: Verdict::Holds,
    },
];

/// Adds the article's route on host a (its default route is eth0) and runs the experiment.
pub fn tour(lan: &Lan) -> Result<Chapter, String> {
    let mut chapter = Chapter::new("C: multicast over loopback, sendto() against send()");
    let a = lan.host("a");
    let group =
        loopback::Group::article(loopback::group::random_port()).map_err(|e| e.to_string())?;
    a.add_route(&group.host_route(), "lo")
        .map_err(|e| e.to_string())?;
    chapter.say(format!(
        "{}: default route via eth0, route {} dev lo, a listener joined on lo",
        who(a),
        group.host_route()
    ));
    let outcome = a
        .run(|| Experiment::article(group).run())
        .map_err(|e| format!("the experiment on a: {e}"))?;
    for send in &outcome.sends {
        chapter.say(format!("{:<18} {}", send.method.calls(), send.verdict));
    }
    let verdict_of = |method| outcome.send(method, Fix::None).map(|s| s.verdict.clone());
    let on = |verdict: &Option<Where>, name: &str| {
        verdict
            .as_ref()
            .and_then(Where::interface)
            .is_some_and(|i| i.name == name)
    };
    let sendto = verdict_of(SendMethod::SendTo);
    let followed = matches!(sendto, Some(Where::FollowedRoute { .. })) && on(&sendto, "lo");
    chapter.check(
        &CLAIMS[0],
        if followed {
            Verdict::Holds
        } else {
            Verdict::Wrong
        },
        sendto.map_or("not tried".into(), |v| v.to_string()),
    );
    let send = verdict_of(SendMethod::ConnectThenSend);
    let leaked = matches!(send, Some(Where::LeftThrough { .. })) && on(&send, "eth0");
    chapter.check(
        &CLAIMS[1],
        if leaked {
            Verdict::Holds
        } else {
            Verdict::Wrong
        },
        send.map_or("not tried".into(), |v| v.to_string()),
    );
    Ok(chapter)
}
