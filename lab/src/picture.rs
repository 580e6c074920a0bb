//! Pictures of the labs, drawn from a running lab: its hosts, their interfaces and their
//! addresses as the kernel lists them (`ip -j addr` in each host), so a picture cannot drift
//! from what `cargo lab` builds. One drawing serves two readers: the book's pictures
//! (`docs/tests/chapters/pictures.rs` draws each one again and compares it with the file the book
//! shows, `docs/src/pictures/*.svg`) and the live web view (`cargo lab --web`), which writes
//! each cable's packet counters next to the line marked `data-cable="HOST INTERFACE"`.

use std::fmt::Write;

use crate::Lab;

/// One host as the picture shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPicture {
    /// The host's name.
    pub name: String,
    /// Its interfaces (`eth0 (veth)`) with their addresses (`10.0.0.1/24`), IPv6
    /// link-local ones left out (they change with every run).
    pub interfaces: Vec<(String, Vec<String>)>,
    /// Where its IPv4 multicast goes: the route for 224.0.0.0/4, or the default route.
    pub multicast_route: Option<String>,
}

/// The shape of a lab, which decides the drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One host (`cargo lab --sandbox`): its `lo` and its `eth0`.
    Sandbox,
    /// Hosts on one bridge (`cargo lab a b`).
    Lan,
    /// Two segments and the router between them (`cargo lab --routed`).
    Routed,
}

impl Shape {
    /// The shape of a lab with these host names: a host `router` makes it routed, a single
    /// host `sandbox` a sandbox, anything else a LAN.
    pub fn of<S: AsRef<str>>(names: &[S]) -> Shape {
        if names.iter().any(|n| n.as_ref() == "router") {
            Shape::Routed
        } else if names.len() == 1 && names[0].as_ref() == "sandbox" {
            Shape::Sandbox
        } else {
            Shape::Lan
        }
    }
}

/// Reads every host of `lab` from inside it. `lo` is shown only in a one-host lab.
pub fn describe(lab: &Lab, shape: Shape) -> Result<Vec<HostPicture>, String> {
    let names: Vec<String> = lab.entry().hosts.iter().map(|h| h.name.clone()).collect();
    describe_with(&names, shape, |host, command| {
        lab.exec(host, command)
            .map(|out| out.stdout)
            .map_err(|e| e.to_string())
    })
}

/// [`describe`] for hosts reached by other means: `run(host, command_line)` runs a command
/// line in that host and returns its standard output (the web view of a lab running in
/// another process runs it on a thread that entered the host).
pub fn describe_with(
    names: &[String],
    shape: Shape,
    run: impl Fn(&str, &str) -> Result<Vec<u8>, String>,
) -> Result<Vec<HostPicture>, String> {
    let mut hosts = Vec::new();
    for name in names {
        let json = |command: &str| -> Result<serde_json::Value, String> {
            let out = run(name, command).map_err(|e| format!("{command} in {name}: {e}"))?;
            serde_json::from_slice(&out).map_err(|e| format!("{command} in {name}: {e}"))
        };
        let links = json("ip -j -d addr")?;
        let mut interfaces = Vec::new();
        for link in links.as_array().into_iter().flatten() {
            let name = link["ifname"].as_str().unwrap_or("?").to_owned();
            if name == "lo" && shape != Shape::Sandbox {
                continue;
            }
            let name = match link["linkinfo"]["info_kind"].as_str() {
                Some(kind) => format!("{name} ({kind})"),
                None => name,
            };
            let addresses = link["addr_info"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["scope"] != "link" || a["family"] == "inet")
                .filter_map(|a| Some(format!("{}/{}", a["local"].as_str()?, a["prefixlen"])))
                .collect();
            interfaces.push((name, addresses));
        }
        let routes = json("ip -j route show")?;
        let route = |wanted: &str| {
            routes.as_array().into_iter().flatten().find_map(|r| {
                let dev = r["dev"].as_str()?;
                (r["dst"] == wanted).then(|| format!("{wanted} dev {dev}"))
            })
        };
        hosts.push(HostPicture {
            name: name.clone(),
            interfaces,
            multicast_route: route("224.0.0.0/4").or_else(|| route("default")),
        });
    }
    Ok(hosts)
}

/// The widest drawing the book's column shows unscaled (mdBook's content width, 750 px, less
/// its padding): wider, the browser shrinks it, text included.
pub const MAX_WIDTH: usize = 720;
const GAP: usize = 10;
const LINE: usize = 16;
/// Host text: 11 px monospace, this wide per character (DejaVu Sans Mono: 0.602 em).
const CHAR: f64 = 6.62;
const FONT: usize = 11;
/// What a LAN's switch is labelled.
const LAN_LABEL: &str = "bridge: floods multicast to every port (no IGMP snooping)";

/// How wide `text` is drawn in the host font, in whole pixels.
fn text_width(text: &str) -> usize {
    (text.chars().count() as f64 * CHAR).ceil() as usize
}

/// A host box's lines: its name, each interface and its addresses, and its multicast route.
fn lines(host: &HostPicture) -> usize {
    2 + host
        .interfaces
        .iter()
        .map(|(_, a)| 1 + a.len())
        .sum::<usize>()
        + usize::from(host.multicast_route.is_some())
}

/// The box width that holds every line of every host (the longest line, with its indent and
/// a margin on each side).
fn box_width(hosts: &[&HostPicture]) -> usize {
    let longest = hosts
        .iter()
        .flat_map(|h| {
            std::iter::once(h.name.len() + 5)
                .chain(h.interfaces.iter().map(|(name, _)| name.len()))
                .chain(
                    h.interfaces
                        .iter()
                        .flat_map(|(_, a)| a.iter().map(|a| a.len() + 2)),
                )
                .chain(h.multicast_route.iter().map(|r| r.len() + 6))
        })
        .max()
        .unwrap_or(10);
    // 10 px before the text (where it starts), 10 after.
    (longest as f64 * CHAR).ceil() as usize + 20
}

/// The SVG drawing of `hosts` in `shape`, titled `title`.
pub fn svg(title: &str, shape: Shape, hosts: &[HostPicture]) -> String {
    let (top, bottom): (Vec<&HostPicture>, Vec<&HostPicture>) = match shape {
        Shape::Routed => hosts.iter().partition(|h| h.name != "router"),
        _ => (hosts.iter().collect(), Vec::new()),
    };
    let box_height = |h: &HostPicture| LINE * lines(h);
    let tallest = top.iter().map(|h| box_height(h)).max().unwrap_or(LINE * 3);
    let all: Vec<&HostPicture> = hosts.iter().collect();
    let box_width = box_width(&all);
    let hosts_width = (top.len().max(1)) * (box_width + GAP) + GAP;
    // A LAN of few hosts is narrower than its switch's label: the drawing takes the label's
    // width, so that no text runs past its edge.
    let width = match shape {
        Shape::Lan => hosts_width.max(text_width(LAN_LABEL) + 2 * GAP),
        _ => hosts_width,
    };
    let bridge_y = 50 + tallest + 40;
    let router_height = bottom.first().map_or(0, |r| box_height(r));
    let height = match shape {
        Shape::Sandbox => 50 + tallest + 30,
        Shape::Lan => bridge_y + 50,
        Shape::Routed => bridge_y + 60 + router_height + 20,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"{FONT}\">"
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n\
         <text x=\"{GAP}\" y=\"24\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    for (i, host) in top.iter().enumerate() {
        let x = GAP + i * (box_width + GAP);
        draw_host(&mut out, host, x, 40, (box_width, box_height(host)));
        if shape != Shape::Sandbox {
            let middle = x + box_width / 2;
            let _ = writeln!(
                out,
                "<line x1=\"{middle}\" y1=\"{}\" x2=\"{middle}\" y2=\"{bridge_y}\" stroke=\"black\" \
                 data-cable=\"{} {}\"/>",
                40 + box_height(host),
                escape(&host.name),
                escape(cable(host, 0))
            );
        }
    }
    match shape {
        Shape::Sandbox => {}
        Shape::Lan => bridge(&mut out, GAP, width - GAP, bridge_y, LAN_LABEL),
        Shape::Routed => {
            // The hosts of segment 1 (10.0.1.0/24) are drawn first, then segment 2's.
            let split = top
                .iter()
                .position(|h| {
                    h.interfaces
                        .iter()
                        .all(|(_, a)| !a.iter().any(|a| a.starts_with("10.0.1.")))
                })
                .unwrap_or(top.len());
            let left_end = GAP + split * (box_width + GAP) - GAP / 2;
            // Each segment's label at its outer end, the router's links at the inner ends:
            // no link crosses a label.
            bridge(&mut out, GAP, left_end, bridge_y, "segment 1: 10.0.1.0/24");
            let right = left_end + GAP / 2;
            let _ = writeln!(
                out,
                "<rect x=\"{right}\" y=\"{bridge_y}\" width=\"{}\" height=\"12\" rx=\"4\" \
                 fill=\"#f2c14e\" stroke=\"#8a6d1a\"/>\n\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\">segment 2: 10.0.2.0/24</text>",
                width - GAP - right,
                width - GAP,
                bridge_y + 30
            );
            if let Some(router) = bottom.first() {
                let x = (width - box_width) / 2;
                let y = bridge_y + 60;
                draw_host(&mut out, router, x, y, (box_width, box_height(router)));
                // The router's first interface is on segment 1, its second on segment 2.
                for (n, to) in [left_end - GAP, right + GAP].into_iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "<line x1=\"{}\" y1=\"{y}\" x2=\"{to}\" y2=\"{}\" stroke=\"black\" \
                         data-cable=\"{} {}\"/>",
                        x + box_width / 2,
                        bridge_y + 12,
                        escape(&router.name),
                        escape(cable(router, n))
                    );
                }
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// One message in a sequence picture: from one lane to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    /// The lane it leaves (an index into the lanes).
    pub from: usize,
    /// The lane it reaches.
    pub to: usize,
    /// What it carries, as the picture labels it.
    pub label: String,
    /// Drawn dashed: a copy of one multicast datagram, as opposed to a unicast one.
    pub multicast: bool,
}

/// A sequence picture: one vertical lane per program (`lanes`), time downwards, one arrow
/// per message in the order given.
pub fn sequence(title: &str, lanes: &[String], arrows: &[Arrow]) -> String {
    // Three lanes (sender and two receivers) fill the book's column.
    const LANE: usize = (MAX_WIDTH - 2 * GAP) / 3;
    const STEP: usize = 44;
    let width = lanes.len() * LANE + 2 * GAP;
    let top = 70;
    let height = top + (arrows.len() + 1) * STEP + 20;
    let x = |lane: usize| GAP + lane * LANE + LANE / 2;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"12\">\n\
         <title>{}</title>\n<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n\
         <defs><marker id=\"head\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" refY=\"4\" \
         orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>\n\
         <text x=\"{GAP}\" y=\"24\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        escape(title),
        escape(title)
    );
    for (i, lane) in lanes.iter().enumerate() {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"36\" width=\"{}\" height=\"22\" rx=\"6\" fill=\"#eef4fb\" \
             stroke=\"#3a6ea5\"/>\n<text x=\"{}\" y=\"51\" text-anchor=\"middle\">{}</text>\n\
             <line x1=\"{}\" y1=\"58\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
            x(i) - LANE / 2 + 10,
            LANE - 20,
            x(i),
            escape(lane),
            x(i),
            x(i),
            height - 10
        );
    }
    for (n, arrow) in arrows.iter().enumerate() {
        let y = top + (n + 1) * STEP;
        let dash = if arrow.multicast {
            " stroke-dasharray=\"6,3\""
        } else {
            ""
        };
        let (from, to) = (x(arrow.from), x(arrow.to));
        let _ = writeln!(
            out,
            "<line x1=\"{from}\" y1=\"{y}\" x2=\"{to}\" y2=\"{y}\" stroke=\"black\"{dash} \
             marker-end=\"url(#head)\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            (from + to) / 2,
            y - 6,
            escape(&arrow.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn draw_host(
    out: &mut String,
    host: &HostPicture,
    x: usize,
    y: usize,
    (width, height): (usize, usize),
) {
    let _ = writeln!(
        out,
        "<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" rx=\"8\" \
         fill=\"#eef4fb\" stroke=\"#3a6ea5\"/>\n\
         <text x=\"{}\" y=\"{}\" font-weight=\"bold\">host {}</text>",
        x + 10,
        y + LINE + 2,
        escape(&host.name)
    );
    let mut line = y + 2 * LINE + 2;
    for (name, addresses) in &host.interfaces {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{line}\">{}</text>",
            x + 10,
            escape(name)
        );
        line += LINE;
        for address in addresses {
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{line}\" fill=\"#333\">{}</text>",
                x + 24,
                escape(address)
            );
            line += LINE;
        }
    }
    if let Some(route) = &host.multicast_route {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{line}\" fill=\"#7a3b00\">route {}</text>",
            x + 10,
            escape(route)
        );
    }
}

fn bridge(out: &mut String, from: usize, to: usize, y: usize, label: &str) {
    let _ = writeln!(
        out,
        "<rect x=\"{from}\" y=\"{y}\" width=\"{}\" height=\"12\" rx=\"4\" fill=\"#f2c14e\" stroke=\"#8a6d1a\"/>\n\
         <text x=\"{from}\" y=\"{}\">{}</text>",
        to - from,
        y + 30,
        escape(label)
    );
}

/// The name of a host's `n`-th interface other than `lo` (`eth0`), as the kernel names it
/// (the picture's `eth0 (veth)` without its kind): the cable drawn from the host's box.
fn cable(host: &HostPicture, n: usize) -> &str {
    host.interfaces
        .iter()
        .map(|(name, _)| name.split(' ').next().unwrap_or(name))
        .filter(|name| *name != "lo")
        .nth(n)
        .unwrap_or("eth0")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host's name, interfaces and addresses all appear in its drawing, escaped.
    #[test]
    fn a_drawing_names_every_host_interface_and_address() {
        let hosts = vec![HostPicture {
            name: "a<b".into(),
            interfaces: vec![("eth0".into(), vec!["10.0.0.1/24".into()])],
            multicast_route: Some("default dev eth0".into()),
        }];
        let drawing = svg("t", Shape::Lan, &hosts);
        for text in [
            "host a&lt;b",
            ">eth0<",
            ">10.0.0.1/24<",
            "route default dev eth0",
            "bridge",
        ] {
            assert!(drawing.contains(text), "{text} in {drawing}");
        }
    }

    /// The attributes `name` of every element `tag` in `drawing`, as numbers.
    fn numbers(drawing: &str, tag: &str, name: &str) -> Vec<Vec<f64>> {
        drawing
            .lines()
            .filter(|l| {
                l.starts_with(&format!("<{tag} "))
                    && name.split(',').all(|n| l.contains(&format!(" {n}=\"")))
            })
            .map(|l| {
                name.split(',')
                    .map(|n| {
                        let at = l.find(&format!(" {n}=\"")).expect(n) + n.len() + 3;
                        l[at..at + l[at..].find('"').unwrap()].parse().unwrap()
                    })
                    .collect()
            })
            .collect()
    }

    /// The routed lab, with the longest texts `cargo lab --routed` shows, fits the book's
    /// column, and every line of every host box (its route the last) lies inside the box.
    #[test]
    fn a_routed_lab_fits_the_column_and_each_box_holds_its_lines() {
        let host = |name: &str, s: u8, k: &str| HostPicture {
            name: name.into(),
            interfaces: vec![(
                "eth0 (veth)".into(),
                vec![format!("10.0.{s}.{k}/24"), format!("fd00:0:0:{s}::{k}/64")],
            )],
            multicast_route: Some("default dev eth0".into()),
        };
        let mut hosts = vec![
            host("a1", 1, "1"),
            host("a2", 1, "2"),
            host("b1", 2, "1"),
            host("b2", 2, "2"),
        ];
        let mut router = host("router", 1, "fe");
        router.interfaces.push((
            "eth1 (veth)".into(),
            vec!["10.0.2.254/24".into(), "fd00:0:0:2::fe/64".into()],
        ));
        hosts.push(router);
        let drawing = svg("cargo lab --routed", Shape::Routed, &hosts);
        let width = numbers(&drawing, "svg", "width")[0][0];
        assert!(width <= MAX_WIDTH as f64, "{width} px wide");
        let boxes: Vec<Vec<f64>> = numbers(&drawing, "rect", "x,y,width,height")
            .into_iter()
            .filter(|r| r[3] > 20.0)
            .collect();
        assert_eq!(boxes.len(), 5, "{drawing}");
        for line in drawing.lines().filter(|l| l.starts_with("<text x=")) {
            let at: Vec<f64> = numbers(line, "text", "x,y").remove(0);
            let text = &line[line.find('>').unwrap() + 1..line.rfind("</").unwrap()];
            let end = at[0] + text.len() as f64 * CHAR;
            let inside = |r: &Vec<f64>| {
                at[0] >= r[0] && end <= r[0] + r[2] && at[1] > r[1] && at[1] <= r[1] + r[3]
            };
            if boxes.iter().any(|r| {
                at[0] >= r[0]
                    && at[0] <= r[0] + r[2]
                    && at[1] > r[1]
                    && at[1] <= r[1] + r[3] + LINE as f64
            }) {
                assert!(
                    boxes.iter().any(inside),
                    "{text:?} crosses its box in {drawing}"
                );
            }
        }
    }

    /// A two-host LAN is narrower than its switch's label, so the drawing widens to hold it:
    /// every text line ends inside the drawing.
    #[test]
    fn every_text_of_a_small_lan_ends_inside_the_drawing() {
        let host = |name: &str, k: &str| HostPicture {
            name: name.into(),
            interfaces: vec![(
                "eth0 (veth)".into(),
                vec![format!("10.0.0.{k}/24"), format!("fd00::{k}/64")],
            )],
            multicast_route: Some("default dev eth0".into()),
        };
        let drawing = svg(
            "cargo lab a b",
            Shape::Lan,
            &[host("a", "1"), host("b", "2")],
        );
        let width = numbers(&drawing, "svg", "width")[0][0];
        assert!(width <= MAX_WIDTH as f64, "{width} px wide");
        for line in drawing.lines().filter(|l| l.starts_with("<text x=")) {
            let at: Vec<f64> = numbers(line, "text", "x,y").remove(0);
            let text = &line[line.find('>').unwrap() + 1..line.rfind("</").unwrap()];
            let end = at[0] + text.len() as f64 * CHAR;
            assert!(
                end <= width,
                "{text:?} ends at {end}, past the drawing's {width} px"
            );
        }
    }
}
