//! PNG plots with `plotters` (bitmap backend, embedded DejaVu Sans font: no
//! system font library is needed): predictions against the truth over time,
//! and the training / validation loss per epoch.
//!
//! ```no_run
//! use lstmkit::plot::{plot_series, Series};
//! let truth = vec![1.0, 2.0, 3.0];
//! let pred = vec![1.1, 1.9, 3.2];
//! plot_series(
//!     std::path::Path::new("pred.png"),
//!     "Test set",
//!     "co2",
//!     None,
//!     &[Series::new("truth", &truth), Series::new("LSTM", &pred)],
//! )
//! .unwrap();
//! ```

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};
use crate::train::History;

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is valid; should registration fail anyway, plotters
        // reports a font error when drawing text, which we turn into an Error.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One named line of a plot.
pub struct Series<'a> {
    /// Legend label.
    pub name: &'a str,
    /// Values, one per x position (NaN values are skipped).
    pub values: &'a [f64],
    /// Shaded bands around the line (`lower`, `upper`, one per x position;
    /// NaN where there is none): a fan chart when nested.
    pub bands: Vec<(&'a [f64], &'a [f64])>,
}

impl<'a> Series<'a> {
    /// A named series.
    pub fn new(name: &'a str, values: &'a [f64]) -> Self {
        Series {
            name,
            values,
            bands: Vec::new(),
        }
    }

    /// Adds a shaded band from `lower` to `upper` in the line's colour.
    pub fn band(mut self, lower: &'a [f64], upper: &'a [f64]) -> Self {
        self.bands.push((lower, upper));
        self
    }
}

/// The runs of positions where both bounds are finite, as closed polygons.
fn band_polygons(lower: &[f64], upper: &[f64], x0: f64) -> Vec<Vec<(f64, f64)>> {
    let n = lower.len().min(upper.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if !(lower[i].is_finite() && upper[i].is_finite()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && lower[i].is_finite() && upper[i].is_finite() {
            i += 1;
        }
        let mut poly: Vec<(f64, f64)> = (start..i).map(|j| (x0 + j as f64, upper[j])).collect();
        poly.extend((start..i).rev().map(|j| (x0 + j as f64, lower[j])));
        out.push(poly);
    }
    out
}

const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("{}: cannot draw the plot: {e}", path.display()))
}

/// The plots' size in pixels.
const WIDTH: u32 = 1200;
const HEIGHT: u32 = 600;
/// Pixel columns of the plotting area (the width less the margins and the y labels).
const PLOT_COLUMNS: usize = 1080;

/// Encodes an RGB buffer of `WIDTH` x `HEIGHT` pixels as PNG.
fn encode_png(rgb: &[u8], path: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| plot_err(path, e))?;
    w.write_image_data(rgb).map_err(|e| plot_err(path, e))?;
    w.finish().map_err(|e| plot_err(path, e))?;
    Ok(out)
}

fn bounds(series: &[Series]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in series {
        let bands = s.bands.iter().flat_map(|(l, u)| l.iter().chain(u.iter()));
        for v in s.values.iter().chain(bands).filter(|v| v.is_finite()) {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9 + lo.abs() * 1e-6);
    (lo - pad, hi + pad)
}

/// Draws line series against their index into a 1200×600 PNG, written
/// atomically to `path`. With `x_labels`, the x tick labels show those strings
/// (e.g. the dates of the time column) instead of the index.
pub fn plot_series(
    path: &Path,
    title: &str,
    y_label: &str,
    x_labels: Option<&[String]>,
    series: &[Series],
) -> Result<()> {
    plot_series_titled(path, title, "", y_label, x_labels, series)
}

/// [`plot_series`] with a title for the x axis too (e.g. the time column's name).
pub fn plot_series_titled(
    path: &Path,
    title: &str,
    x_title: &str,
    y_label: &str,
    x_labels: Option<&[String]>,
    series: &[Series],
) -> Result<()> {
    draw(path, title, x_title, y_label, x_labels, series, false, 0.0)
}

/// The y range of a log axis over the positive finite values: whole decades
/// around them, so that the ticks fall on readable values (None: no such value).
fn log_range(series: &[Series]) -> Option<(f64, f64)> {
    let pos = series
        .iter()
        .flat_map(|s| s.values.iter())
        .filter(|v| v.is_finite() && **v > 0.0);
    let (lo, hi) = pos.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
    if !lo.is_finite() {
        return None;
    }
    let lo = 10f64.powf(lo.log10().floor());
    let mut hi = 10f64.powf(hi.log10().ceil());
    if hi <= lo {
        hi = lo * 10.0;
    }
    Some((lo, hi))
}

/// A tick value in a few characters: `0.25`, `1500`, `1.6M`, `3e-4`.
pub fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e6).contains(&a) {
        if (1e6..1e9).contains(&a) {
            return trim(format!("{:.2}", v / 1e6)) + "M";
        }
        let s = format!("{v:.1e}");
        // 3.0e-4 → 3e-4
        return s.replace(".0e", "e");
    }
    if a >= 1e4 {
        return trim(format!("{:.1}", v / 1e3)) + "k";
    }
    let decimals = if a >= 100.0 {
        1
    } else if a >= 1.0 {
        3
    } else {
        (-a.log10()).floor() as usize + 3
    };
    trim(format!("{v:.decimals$}"))
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// At most about `2 × columns` points of `values` (index, value), keeping the
/// minimum and the maximum of each pixel column in their order: a long series
/// (a million test points) draws as its envelope, not as a solid blob, and
/// no peak is lost. Shorter series come back whole; NaN values are dropped.
pub fn downsample(values: &[f64], columns: usize) -> Vec<(usize, f64)> {
    let finite = |(i, v): (usize, &f64)| v.is_finite().then_some((i, *v));
    let columns = columns.max(1);
    if values.len() <= 2 * columns {
        return values.iter().enumerate().filter_map(finite).collect();
    }
    let per = values.len().div_ceil(columns);
    let mut out = Vec::with_capacity(2 * columns);
    for (c, chunk) in values.chunks(per).enumerate() {
        let base = c * per;
        let mut lo: Option<(usize, f64)> = None;
        let mut hi: Option<(usize, f64)> = None;
        for (i, v) in chunk.iter().enumerate().filter_map(finite) {
            if lo.is_none_or(|(_, l)| v < l) {
                lo = Some((base + i, v));
            }
            if hi.is_none_or(|(_, h)| v > h) {
                hi = Some((base + i, v));
            }
        }
        match (lo, hi) {
            (Some(a), Some(b)) if a.0 == b.0 => out.push(a),
            (Some(a), Some(b)) if a.0 < b.0 => out.extend([a, b]),
            (Some(a), Some(b)) => out.extend([b, a]),
            _ => {}
        }
    }
    out
}

/// Plots `loss` and `val_loss` per epoch (epochs 1-based, as Keras prints them).
pub fn plot_history(path: &Path, history: &History, title: &str) -> Result<()> {
    let loss = history.loss.clone();
    let val: Vec<f64> = history
        .val_loss
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect();
    let mut series = vec![Series::new("loss", &loss)];
    if val.iter().any(|v| v.is_finite()) {
        series.push(Series::new("val_loss", &val));
    }
    let x0 = history
        .epoch
        .first()
        .map(|e| *e as f64 + 1.0)
        .unwrap_or(1.0);
    let log = loss.iter().chain(&val).all(|v| !v.is_finite() || *v > 0.0)
        && loss.iter().any(|v| v.is_finite());
    let y_label = if log { "loss (log scale)" } else { "loss" };
    draw(path, title, "epoch", y_label, None, &series, log, x0)
}

#[allow(clippy::too_many_arguments)]
fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x_labels: Option<&[String]>,
    series: &[Series],
    log_y: bool,
    x0: f64,
) -> Result<()> {
    register_font();
    let n = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    if n == 0 {
        return Err(plot_err(path, "nothing to plot (no values)"));
    }
    // drawn in memory, then written atomically: no half-written PNG on error
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    (|| -> Result<()> {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
        let x_lo = x0;
        let x_hi = x0 + (n.max(2) - 1) as f64;
        let (y_lo, y_hi) = bounds(series);
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, ("sans-serif", 26))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80);
        let fmt_x = |x: &f64| -> String {
            match x_labels {
                Some(l) => {
                    let i = (x - x0).round();
                    if i >= 0.0 && (i as usize) < l.len() {
                        l[i as usize].clone()
                    } else {
                        String::new()
                    }
                }
                None => {
                    if (x - x.round()).abs() < 1e-9 && x.abs() < 1e4 {
                        format!("{}", x.round() as i64)
                    } else {
                        fmt_tick(*x)
                    }
                }
            }
        };
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(x_label)
                    .y_desc(y_label)
                    .x_labels(8)
                    .y_labels(8)
                    .x_label_formatter(&fmt_x)
                    .y_label_formatter(&|y: &f64| fmt_tick(*y))
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 17))
                    .light_line_style(WHITE.mix(0.0))
                    .draw()
                    .map_err(|e| plot_err(path, e))?;
                // bands first, under every line
                for (k, s) in series.iter().enumerate() {
                    let color = COLORS[k % COLORS.len()];
                    for (lower, upper) in &s.bands {
                        for poly in band_polygons(lower, upper, x0) {
                            chart
                                .draw_series(std::iter::once(Polygon::new(
                                    poly,
                                    color.mix(0.18).filled(),
                                )))
                                .map_err(|e| plot_err(path, e))?;
                        }
                    }
                }
                for (k, s) in series.iter().enumerate() {
                    let color = COLORS[k % COLORS.len()];
                    let pts: Vec<(f64, f64)> = downsample(s.values, PLOT_COLUMNS)
                        .into_iter()
                        .filter(|(_, v)| !log_y || *v > 0.0)
                        .map(|(i, v)| (x0 + i as f64, v))
                        .collect();
                    chart
                        .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                        .map_err(|e| plot_err(path, e))?
                        .label(s.name)
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                        });
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 16))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(|e| plot_err(path, e))?;
            }};
        }
        if let (true, Some((lo, hi))) = (log_y, log_range(series)) {
            finish!(builder
                .build_cartesian_2d(x_lo..x_hi, (lo..hi).log_scale())
                .map_err(|e| plot_err(path, e))?);
        } else {
            finish!(builder
                .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
                .map_err(|e| plot_err(path, e))?);
        }
        root.present().map_err(|e| plot_err(path, e))?;
        Ok(())
    })()?;
    crate::io::atomic_write_bytes(path, &encode_png(&rgb, path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows (top to bottom) where a pixel of `color` is drawn inside the plot.
    fn rows_with(png_bytes: &[u8], color: RGBColor) -> Vec<usize> {
        let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        let w = info.width as usize;
        (0..info.height as usize)
            .filter(|y| {
                // skip the legend box (upper right)
                (100..w - 300).any(|x| {
                    let p = &buf[(y * w + x) * 3..(y * w + x) * 3 + 3];
                    p == [color.0, color.1, color.2]
                })
            })
            .collect()
    }

    #[test]
    fn a_small_loss_fills_a_log_axis_with_readable_ticks() {
        assert_eq!(
            log_range(&[Series::new("l", &[2e-4, 5e-3])]),
            Some((1e-4, 1e-2))
        );
        assert_eq!(
            log_range(&[Series::new("l", &[0.3, 0.5])]),
            Some((0.1, 1.0))
        );
        assert_eq!(log_range(&[Series::new("l", &[f64::NAN, -1.0])]), None);
        for (v, want) in [
            (1e-4, "1e-4"),
            (3e-4, "3e-4"),
            (0.001, "0.001"),
            (0.25, "0.25"),
            (2.5, "2.5"),
            (1500.0, "1500"),
            (624671.0, "624.7k"),
            (1.56e6, "1.56M"),
        ] {
            assert_eq!(fmt_tick(v), want);
        }
        // the README's first run: a loss from 1e-2 down to 1e-4 spans the plot's height
        let dir = crate::test_tmp_root().join(format!("lstmkit-plot-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut h = History::default();
        for e in 0..40 {
            let l = 1e-2 * (0.89f64).powi(e as i32);
            h.push(e, l, Some(l * 1.3), 1e-3, 0.1);
        }
        let p = dir.join("loss.png");
        plot_history(&p, &h, "Loss").unwrap();
        let rows = rows_with(&std::fs::read(&p).unwrap(), COLORS[0]);
        let spread = rows.last().unwrap() - rows.first().unwrap();
        assert!(
            spread > HEIGHT as usize / 3,
            "the loss line spans {spread} rows"
        );
        if std::env::var_os("LSTMKIT_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn long_series_are_drawn_as_their_min_max_envelope() {
        let n = 1_560_000;
        let v: Vec<f64> = (0..n as u64).map(|i| ((i * 7919) % 1000) as f64).collect();
        let mut spiky = v.clone();
        spiky[777_777] = 5000.0;
        spiky[123_456] = -5000.0;
        let d = downsample(&spiky, PLOT_COLUMNS);
        assert!(d.len() <= 2 * PLOT_COLUMNS, "{}", d.len());
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0), "in order");
        assert!(d.contains(&(777_777, 5000.0)) && d.contains(&(123_456, -5000.0)));
        let short = [1.0, f64::NAN, 3.0];
        assert_eq!(downsample(&short, 10), vec![(0, 1.0), (2, 3.0)]);
    }

    /// Pixels that are neither white nor black nor a line colour: the shading.
    fn shaded_pixels(png_bytes: &[u8]) -> usize {
        let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        r.next_frame(&mut buf).unwrap();
        buf.chunks(3)
            .filter(|p| p.iter().all(|c| *c > 150) && p.iter().any(|c| *c < 250))
            .count()
    }

    #[test]
    fn bands_are_shaded_under_their_line() {
        let dir = crate::test_tmp_root().join(format!("lstmkit-plot-band-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v: Vec<f64> = (0..50).map(|i| (i as f64 / 5.0).sin()).collect();
        let mut lo = vec![f64::NAN; 50];
        let mut hi = vec![f64::NAN; 50];
        for i in 30..50 {
            lo[i] = v[i] - 1.0;
            hi[i] = v[i] + 1.0;
        }
        let (a, b) = (dir.join("plain.png"), dir.join("band.png"));
        plot_series(&a, "t", "y", None, &[Series::new("f", &v)]).unwrap();
        plot_series(&b, "t", "y", None, &[Series::new("f", &v).band(&lo, &hi)]).unwrap();
        let (pa, pb) = (
            shaded_pixels(&std::fs::read(&a).unwrap()),
            shaded_pixels(&std::fs::read(&b).unwrap()),
        );
        assert!(
            pb > pa + 20_000,
            "{pb} shaded pixels with the band, {pa} without"
        );
        assert_eq!(band_polygons(&lo, &hi, 0.0).len(), 1);
        assert_eq!(band_polygons(&lo, &hi, 0.0)[0].len(), 40);
        if std::env::var_os("LSTMKIT_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn writes_pngs_with_text() {
        let dir = crate::test_tmp_root().join(format!("lstmkit-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let truth: Vec<f64> = (0..100)
            .map(|i| (i as f64 / 8.0).sin() * 3.0 + 350.0)
            .collect();
        let pred: Vec<f64> = truth.iter().map(|v| v + 0.3).collect();
        let labels: Vec<String> = (0..100)
            .map(|i| format!("2020-01-{:02}", i % 28 + 1))
            .collect();
        let p = dir.join("pred.png");
        plot_series(
            &p,
            "Test set: predictions vs truth",
            "co2 (ppm)",
            Some(&labels),
            &[Series::new("truth", &truth), Series::new("LSTM", &pred)],
        )
        .unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let mut h = History::default();
        for e in 0..10 {
            h.push(
                e,
                1.0 / (e + 1) as f64,
                Some(1.2 / (e + 1) as f64),
                1e-3,
                0.1,
            );
        }
        let q = dir.join("loss.png");
        plot_history(&q, &h, "Loss").unwrap();
        assert_eq!(&std::fs::read(&q).unwrap()[1..4], b"PNG");
        // the PNG is encoded in memory: a name without `.png` gets one too
        let r = dir.join("plot-without-extension");
        plot_history(&r, &h, "Loss").unwrap();
        assert_eq!(std::fs::read(&r).unwrap(), std::fs::read(&q).unwrap());
        // no temp files left behind
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(plot_series(&dir.join("x.png"), "t", "y", None, &[]).is_err());
        assert!(plot_series(
            &dir.join("no/such/dir/x.png"),
            "t",
            "y",
            None,
            &[Series::new("a", &truth)]
        )
        .is_err());
        if std::env::var_os("LSTMKIT_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
