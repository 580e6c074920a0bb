//! Pictures of the labs the chapters open, drawn from a running lab: its hosts, their
//! interfaces and their addresses as the kernel lists them (`ip -j addr` in each host), so a
//! picture cannot drift from what `cargo lab` builds. `tests/pictures.rs` draws each one
//! again and compares it with the file the book shows (`src/pictures/*.svg`).

use std::fmt::Write;

use lab::Lab;

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

/// Reads every host of `lab` from inside it. `lo` is shown only in a one-host lab.
pub fn describe(lab: &Lab, shape: Shape) -> Result<Vec<HostPicture>, String> {
    let mut hosts = Vec::new();
    for host in &lab.entry().hosts {
        let json = |command: &str| -> Result<serde_json::Value, String> {
            let out = lab
                .exec(&host.name, command)
                .map_err(|e| format!("{command} in {}: {e}", host.name))?;
            serde_json::from_slice(&out.stdout)
                .map_err(|e| format!("{command} in {}: {e}", host.name))
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
            name: host.name.clone(),
            interfaces,
            multicast_route: route("224.0.0.0/4").or_else(|| route("default")),
        });
    }
    Ok(hosts)
}

const BOX_WIDTH: usize = 200;
const GAP: usize = 30;
const LINE: usize = 16;

/// The SVG drawing of `hosts` in `shape`, titled `title`.
pub fn svg(title: &str, shape: Shape, hosts: &[HostPicture]) -> String {
    let (top, bottom): (Vec<&HostPicture>, Vec<&HostPicture>) = match shape {
        Shape::Routed => hosts.iter().partition(|h| h.name != "router"),
        _ => (hosts.iter().collect(), Vec::new()),
    };
    let box_height =
        |h: &HostPicture| LINE * (2 + h.interfaces.iter().map(|(_, a)| 1 + a.len()).sum::<usize>());
    let tallest = top.iter().map(|h| box_height(h)).max().unwrap_or(LINE * 3);
    let width = (top.len().max(1)) * (BOX_WIDTH + GAP) + GAP;
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
         viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"12\">"
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n\
         <text x=\"{GAP}\" y=\"24\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    for (i, host) in top.iter().enumerate() {
        let x = GAP + i * (BOX_WIDTH + GAP);
        draw_host(&mut out, host, x, 40, box_height(host));
        if shape != Shape::Sandbox {
            let middle = x + BOX_WIDTH / 2;
            let _ = writeln!(
                out,
                "<line x1=\"{middle}\" y1=\"{}\" x2=\"{middle}\" y2=\"{bridge_y}\" stroke=\"black\"/>",
                40 + box_height(host)
            );
        }
    }
    match shape {
        Shape::Sandbox => {}
        Shape::Lan => bridge(
            &mut out,
            GAP,
            width - GAP,
            bridge_y,
            "bridge: floods multicast to every port (no IGMP snooping)",
        ),
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
            let left_end = GAP + split * (BOX_WIDTH + GAP) - GAP / 2;
            bridge(&mut out, GAP, left_end, bridge_y, "segment 1: 10.0.1.0/24");
            bridge(
                &mut out,
                left_end + GAP / 2,
                width - GAP,
                bridge_y,
                "segment 2: 10.0.2.0/24",
            );
            if let Some(router) = bottom.first() {
                let x = (width - BOX_WIDTH) / 2;
                let y = bridge_y + 60;
                draw_host(&mut out, router, x, y, box_height(router));
                for to in [(GAP + left_end) / 2, (left_end + width - GAP) / 2] {
                    let _ = writeln!(
                        out,
                        "<line x1=\"{}\" y1=\"{y}\" x2=\"{to}\" y2=\"{}\" stroke=\"black\"/>",
                        x + BOX_WIDTH / 2,
                        bridge_y + 6
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
    const LANE: usize = 230;
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

fn draw_host(out: &mut String, host: &HostPicture, x: usize, y: usize, height: usize) {
    let _ = writeln!(
        out,
        "<rect x=\"{x}\" y=\"{y}\" width=\"{BOX_WIDTH}\" height=\"{height}\" rx=\"8\" \
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
}
