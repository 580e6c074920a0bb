//! An SVG of the sweep: message rate and sender CPU per message against the number of
//! receivers, one line per mode. Drawn with plotters' SVG backend, no fonts needed.

use std::path::Path;

use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use crate::mode::Mode;
use crate::summary::Point;

/// What plotters reports when drawing or writing fails.
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Writes the two charts side by side to `path`.
pub fn draw(points: &[Point], path: &Path) -> crate::Result<()> {
    draw_both(points, path)
        .map_err(|error| crate::Error::Plot(format!("{}: {error}", path.display())))
}

fn draw_both(points: &[Point], path: &Path) -> Drawn {
    let root = SVGBackend::new(path, (1100, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);
    chart(&left, points, "messages per second (thousands)", |p| {
        p.rate / 1000.0
    })?;
    chart(&right, points, "sender CPU per message (µs)", |p| {
        p.cpu_per_message_ns / 1000.0
    })?;
    root.present()?;
    Ok(())
}

fn chart(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    points: &[Point],
    title: &str,
    value: impl Fn(&Point) -> f64,
) -> Drawn {
    let max_n = points.iter().map(|p| p.receivers).max().unwrap_or(1) as f64;
    let max_y = points.iter().map(&value).fold(0.0, f64::max).max(1e-9) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..max_n + 1.0, 0.0..max_y)?;
    chart.configure_mesh().x_desc("receivers (N)").draw()?;
    for (mode, color, name) in [
        (Mode::Multicast, BLUE, "multicast"),
        (Mode::Unicast, RED, "N×unicast"),
    ] {
        let mut series: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.mode == mode)
            .map(|p| (p.receivers as f64, value(p)))
            .collect();
        series.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            series
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}
