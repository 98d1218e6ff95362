//! Which format a time column uses: the part that is ours. A cell is split
//! into its pieces (date, clock, offset) by their shape only, and a column's
//! day/month order and digit padding are read from all its cells; the
//! calendar ([`super::calendar`]) turns the pieces into values with chrono
//! and writes labels back in the same format.

/// Numeric time values are kept below this magnitude (keys stay far from `i128`'s range).
pub(super) const MAX_NUMBER: f64 = 1e18;
/// The same bound for whole numbers, compared exactly.
pub(super) const MAX_INTEGER: u64 = 1_000_000_000_000_000_000;

/// The kind of a column's cells (the first cell decides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Plain numbers: `1`, `2001`, `20210131`, `1.5e9`.
    Number,
    /// `2021-01-31`, `2021/01/31`, `2021.01.31`, or a month `2021-01` (not
    /// with `.`: `2021.01` is a number); the separator.
    YearFirst(char),
    /// The year last: `31.01.2021`, `01/31/2021`, `31-01-2021`; the separator.
    YearLast(char),
    /// `1998Q1`, `1998 Q1`, `1998-Q1`; what stands between year and `Q`.
    Quarter(&'static str),
}

/// How a column writes its times: what the calendar needs to read every
/// cell and to write new ones alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeFormat {
    pub(super) kind: Kind,
    /// Year-last dates: the day comes before the month.
    pub(super) day_first: bool,
    /// Year-last dates whose day/month order nothing in the column shows
    /// (read month first, as pandas does).
    pub(super) guessed: bool,
    /// Days and months written with two digits (`05`); no cell writes one digit.
    pub(super) pad_day: bool,
    pub(super) pad_month: bool,
}

/// A date-time cell's clock, by shape: `HH`, `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Clock<'a> {
    /// The clock without its offset (`23:00:00.5`).
    pub text: &'a str,
    /// Hours only (1), with minutes (2), with seconds (3).
    pub parts: usize,
    /// Digits after the seconds' decimal point (`.` or `,`).
    pub frac: Option<usize>,
}

/// A cell split into its pieces by shape: `date`, `tsep`, `clock`, `suffix`
/// laid end to end give the cell back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pieces<'a> {
    /// The date part (`2021-01-31`), whose fields are digits.
    pub date: &'a str,
    /// Date fields: 2 (a month) or 3 (a day).
    pub fields: usize,
    /// What separates date and clock (`T`, ` `), empty without a clock.
    pub tsep: &'a str,
    pub clock: Option<Clock<'a>>,
    /// The offset as written, with any space before it (`Z`, ` UTC`, `+01:00`).
    pub suffix: &'a str,
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The digit fields of a date split on `sep`: 2 or 3 of them.
pub(super) fn fields(date: &str, sep: char) -> Option<Vec<&str>> {
    let f: Vec<&str> = date.split(sep).collect();
    ((f.len() == 2 || f.len() == 3) && f.iter().all(|x| all_digits(x))).then_some(f)
}

/// `1998Q1`, `1998 Q1`, `1998-Q1`: what stands between year and `Q`.
pub(super) fn quarter_sep(s: &str) -> Option<&'static str> {
    let (year, q) = s.split_once('Q')?;
    if !matches!(q.as_bytes(), [b'1'..=b'4']) {
        return None;
    }
    let sep = ["", " ", "-"].into_iter().find(|sep| {
        year.strip_suffix(sep)
            .is_some_and(|y| y.len() == 4 && all_digits(y))
    })?;
    Some(sep)
}

/// Splits the clock text (after `T` or spaces) into clock and offset;
/// `None` when it is not a clock of a known shape.
fn split_clock(s: &str) -> Option<(Clock<'_>, &str)> {
    let s = s.trim_end();
    let core_end = if let Some(c) = s
        .strip_suffix(['Z', 'z'])
        .or_else(|| s.strip_suffix("UTC"))
        .or_else(|| s.strip_suffix("GMT"))
    {
        c.trim_end().len()
    } else if let Some(p) = s.rfind(['+', '-']) {
        let o = s[p + 1..].replace(':', "");
        if !all_digits(&o) || !(o.len() == 2 || o.len() == 4) {
            return None;
        }
        s[..p].trim_end().len()
    } else {
        s.len()
    };
    let (text, suffix) = s.split_at(core_end);
    let mut parts = text.split(':');
    let h = parts.next()?;
    let m = parts.next();
    let sec = parts.next();
    if parts.next().is_some() || !all_digits(h) || h.len() > 2 {
        return None;
    }
    if m.is_some_and(|m| !all_digits(m) || m.len() != 2) {
        return None;
    }
    let frac = match sec {
        None => None,
        Some(sec) => {
            let (whole, frac) = match sec.split_once(['.', ',']) {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            if !all_digits(whole) || whole.len() != 2 || frac.is_some_and(|f| !all_digits(f)) {
                return None;
            }
            frac.map(str::len)
        }
    };
    let parts = 1 + usize::from(m.is_some()) + usize::from(sec.is_some());
    Some((Clock { text, parts, frac }, suffix))
}

/// A date or date-time cell's pieces, for a column of dates with separator `sep`.
pub(super) fn pieces(s: &str, sep: char) -> Option<Pieces<'_>> {
    let date = date_part(s);
    let rest = (date.len() < s.len()).then(|| &s[date.len()..]);
    let f = fields(date, sep)?;
    if f.iter().any(|x| x.len() > 4) {
        return None;
    }
    let (tsep, clock, suffix) = match rest {
        None => ("", None, ""),
        Some(rest) => {
            let c = rest[1..].trim_start();
            let tsep = &rest[..rest.len() - c.len()];
            let (clock, suffix) = split_clock(c)?;
            (tsep, Some(clock), suffix)
        }
    };
    Some(Pieces {
        date,
        fields: f.len(),
        tsep,
        clock,
        suffix,
    })
}

/// A cell up to its first `T` or space: the date of a date-time.
fn date_part(s: &str) -> &str {
    &s[..s.find(['T', ' ']).unwrap_or(s.len())]
}

fn kind_of(s: &str) -> Option<Kind> {
    if let Some(sep) = quarter_sep(s) {
        return Some(Kind::Quarter(sep));
    }
    let date = date_part(s);
    for sep in ['-', '/', '.'] {
        if let Some(f) = fields(date, sep) {
            let year_first = f[0].len() == 4
                && f[1].len() <= 2
                && match f.get(2) {
                    Some(d) => d.len() <= 2,
                    None => sep != '.',
                };
            if year_first {
                return Some(Kind::YearFirst(sep));
            }
            if f.len() == 3 && f[2].len() == 4 && f[0].len() <= 2 && f[1].len() <= 2 {
                return Some(Kind::YearLast(sep));
            }
        }
    }
    let number = match s.parse::<i64>() {
        Ok(i) => i.unsigned_abs() < MAX_INTEGER,
        Err(_) => s.parse::<f64>().is_ok_and(|v| v.abs() < MAX_NUMBER),
    };
    number.then_some(Kind::Number)
}

/// Whether days and months are written with two digits: one digit (`5`)
/// says no, a leading zero (`05`) says yes; a field that shows neither (`30`,
/// `12`) follows the other, and two digits are the default.
fn padding(days: &[&str], months: &[&str]) -> (bool, bool) {
    let shown = |v: &[&str]| {
        if v.iter().any(|x| x.len() == 1) {
            Some(false)
        } else if v.iter().any(|x| x.len() == 2 && x.starts_with('0')) {
            Some(true)
        } else {
            None
        }
    };
    let (d, m) = (shown(days), shown(months));
    (d.or(m).unwrap_or(true), m.or(d).unwrap_or(true))
}

impl TimeFormat {
    /// The format of a column: its first cell's kind, with the day/month
    /// order and the padding read from all cells. `None`: the first cell is
    /// not a time this module knows (the column is text labels).
    pub fn detect(cells: &[String]) -> Option<TimeFormat> {
        let kind = kind_of(cells.first()?.trim())?;
        // (first field, second field) of every date of this kind
        let pairs: Vec<(&str, &str)> = match kind {
            Kind::YearFirst(sep) | Kind::YearLast(sep) => cells
                .iter()
                .filter_map(|c| {
                    let f = fields(date_part(c.trim()), sep)?;
                    Some((f[0], f[1]))
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut f = TimeFormat {
            kind,
            day_first: false,
            guessed: false,
            pad_day: true,
            pad_month: true,
        };
        match kind {
            Kind::YearFirst(sep) => {
                let days: Vec<&str> = cells
                    .iter()
                    .filter_map(|c| fields(date_part(c.trim()), sep)?.get(2).copied())
                    .collect();
                let months: Vec<&str> = pairs.iter().map(|p| p.1).collect();
                (f.pad_day, f.pad_month) = padding(&days, &months);
            }
            Kind::YearLast(sep) => {
                let num: Vec<(u32, u32)> = pairs
                    .iter()
                    .filter_map(|p| Some((p.0.parse().ok()?, p.1.parse().ok()?)))
                    .collect();
                let over = |k: usize| num.iter().any(|p| [p.0, p.1][k] > 12);
                let constant =
                    |k: usize| num.iter().all(|p| [p.0, p.1][k] == [num[0].0, num[0].1][k]);
                // `.` with the year last is day first (31.01.2021); `/` and `-`
                // are month first (pandas' default) unless a first field above
                // 12 shows a day, or, with none above 12 on either side, a
                // constant first field beside a changing second one is the day
                // of monthly data (01/02/2021, 01/03/2021: 1 February, 1 March)
                let shown_day_first =
                    over(0) || (!over(1) && num.len() > 2 && constant(0) && !constant(1));
                let shown_month_first =
                    over(1) || (!over(0) && num.len() > 2 && constant(1) && !constant(0));
                f.day_first = sep == '.' || shown_day_first;
                f.guessed = sep != '.' && !shown_day_first && !shown_month_first;
                let (a, b): (Vec<&str>, Vec<&str>) = pairs.iter().copied().unzip();
                (f.pad_day, f.pad_month) = if f.day_first {
                    padding(&a, &b)
                } else {
                    let (m, d) = padding(&b, &a);
                    (d, m)
                };
            }
            Kind::Number | Kind::Quarter(_) => {}
        }
        Some(f)
    }

    /// What a cell of this column looks like, for messages.
    pub fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Number => "a number",
            Kind::Quarter(_) => "a quarter like the first row's",
            Kind::YearFirst(_) | Kind::YearLast(_) => "a date like the first row's",
        }
    }

    /// The chrono pattern of a date of this column (`%d.%m.%Y`); `fields`:
    /// 2 for a month (`2021-01`), 3 for a day.
    pub(super) fn date_pattern(&self, fields: usize) -> String {
        let d = if self.pad_day { "%d" } else { "%-d" };
        let m = if self.pad_month { "%m" } else { "%-m" };
        match self.kind {
            Kind::Number => String::new(),
            Kind::Quarter(sep) => format!("%Y{sep}Q%q"),
            Kind::YearFirst(s) if fields == 2 => format!("%Y{s}{m}"),
            Kind::YearFirst(s) => format!("%Y{s}{m}{s}{d}"),
            Kind::YearLast(s) if self.day_first => format!("{d}{s}{m}{s}%Y"),
            Kind::YearLast(s) => format!("{m}{s}{d}{s}%Y"),
        }
    }
}

/// The chrono pattern of a clock of `parts` parts, without its fraction.
pub(super) fn clock_pattern(parts: usize) -> &'static str {
    match parts {
        1 => "%H",
        2 => "%H:%M",
        _ => "%H:%M:%S",
    }
}

/// Text written between the patterns' fields, with `%` escaped for chrono.
pub(super) fn literal(s: &str) -> String {
    s.replace('%', "%%")
}
