#!/usr/bin/env python3
"""Conformal intervals of `lstmkit backtest` next to Darts' ConformalNaiveModel, same backtest.

For each data set (elecdaily: daily demand, horizon 7; visnights: one region's quarterly
trips, horizon 4), `lstmkit backtest` runs the LSTM and every baseline with `[intervals]`
(split conformal per step, calibrated at each origin on the earlier origins' known errors),
and Darts' ConformalNaiveModel (symmetric, all earlier errors: cal_length None) wraps a
LinearRegressionModel (lags = the LSTM's timesteps, output_chunk_length = horizon) trained on
the rows before the first origin, forecasting from the same origins (stride 1, retrain never).
Coverage, mean width and Winkler score per level are computed here, from both CSVs, over the
forecast rows where every forecaster has an interval (the intersection), so the numbers compare
like with like. Prints a markdown table and writes OUT/intervals_vs_darts.json and
OUT/intervals_vs_darts.png (coverage against width per level).

usage: python scripts/intervals_vs_darts.py [OUT_DIR]
       (LSTMKIT=path/to/lstmkit, default target/release/lstmkit else target/debug/lstmkit)
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
LEVELS = [0.8, 0.95]
ACI_GAMMA = 0.01

SETS = {
    "elecdaily": dict(
        csv="elecdaily.csv", time="date", target="Demand", region=None,
        timesteps=14, horizon=7, start="2014-06-01", epochs=60, units=20, batch=16,
    ),
    "visnights": dict(
        csv="visnights_long.csv", time="quarter", target="trips", region="NSWMetro",
        timesteps=8, horizon=4, start=0.45, epochs=150, units=16, batch=8,
    ),
}


def lstmkit_bin():
    b = os.environ.get("LSTMKIT")
    if b:
        return b
    for p in ("target/release/lstmkit", "target/debug/lstmkit"):
        if os.path.exists(os.path.join(ROOT, p)):
            return os.path.join(ROOT, p)
    sys.exit("build lstmkit first (cargo build --release) or set LSTMKIT")


def series_frame(cfg):
    df = pd.read_csv(os.path.join(DATA, cfg["csv"]))
    if cfg["region"]:
        df = df[df["region"] == cfg["region"]][[cfg["time"], cfg["target"]]].reset_index(drop=True)
    else:
        df = df[[cfg["time"], cfg["target"]]]
    return df


def run_lstmkit(name, cfg, df, out, extra=""):
    d = os.path.join(out, name + ("-aci" if extra else ""))
    os.makedirs(d, exist_ok=True)
    df.to_csv(os.path.join(d, "data.csv"), index=False)
    start = cfg["start"] if isinstance(cfg["start"], float) else f'"{cfg["start"]}"'
    toml = f"""
[data]
path = "data.csv"
time_column = "{cfg['time']}"
target = "{cfg['target']}"
timesteps = {cfg['timesteps']}
horizon = {cfg['horizon']}
scaler = "minmax"
validation_split = 0.1
[[layers]]
type = "lstm"
units = {cfg['units']}
[[layers]]
type = "dense"
units = {cfg['horizon']}
[fit]
epochs = {cfg['epochs']}
batch_size = {cfg['batch']}
seed = 42
verbose = 0
[backtest]
start = {start}
horizon = {cfg['horizon']}
[intervals]
levels = {LEVELS}
{extra}
"""
    with open(os.path.join(d, "exp.toml"), "w") as f:
        f.write(toml)
    subprocess.run([lstmkit_bin(), "backtest", "--quiet", "--config", os.path.join(d, "exp.toml"),
                    "--out", os.path.join(d, "bt")], check=True, stdout=subprocess.DEVNULL)
    return pd.read_csv(os.path.join(d, "bt", "backtest.csv"))


def run_darts(cfg, df, first_origin_time):
    from darts import TimeSeries
    from darts.models import ConformalNaiveModel, LinearRegressionModel

    # a plain integer index: the rows' positions (both engines see the same rows)
    s = TimeSeries.from_values(df[cfg["target"]].values.astype(float))
    labels = dict(enumerate(df[cfg["time"]].astype(str)))
    o = list(df[cfg["time"]].astype(str)).index(str(first_origin_time))
    base = LinearRegressionModel(lags=cfg["timesteps"], output_chunk_length=cfg["horizon"])
    base.fit(s[:o])
    qs = sorted({round((1 - l) / 2, 6) for l in LEVELS} | {0.5} | {round(1 - (1 - l) / 2, 6) for l in LEVELS})
    model = ConformalNaiveModel(base, quantiles=qs)
    hfc = model.historical_forecasts(s, start=s.time_index[o], forecast_horizon=cfg["horizon"], stride=1,
                                     retrain=False, last_points_only=False, overlap_end=False,
                                     predict_likelihood_parameters=True, verbose=False)
    rows = []
    for fc in hfc:
        pdf = fc.to_dataframe() if hasattr(fc, "to_dataframe") else fc.pd_dataframe()
        tgt = next(c for c in pdf.columns if str(c).endswith("_q0.500"))[: -len("_q0.500")]
        for k, (t, r) in enumerate(pdf.iterrows()):
            row = {"time": labels[int(t)], "step": k + 1, "darts": r[f"{tgt}_q0.500"]}
            for l in LEVELS:
                lo, hi = round((1 - l) / 2, 3), round(1 - (1 - l) / 2, 3)
                row[f"darts_lower_{int(round(l * 100))}"] = r[f"{tgt}_q{lo:.3f}"]
                row[f"darts_upper_{int(round(l * 100))}"] = r[f"{tgt}_q{hi:.3f}"]
            rows.append(row)
    return pd.DataFrame(rows)


def scores(y, lo, hi, level):
    a = 1 - level
    w = (hi - lo) + 2 / a * np.maximum(lo - y, 0) + 2 / a * np.maximum(y - hi, 0)
    return dict(coverage=float(np.mean((y >= lo) & (y <= hi))), width=float(np.mean(hi - lo)),
                winkler=float(np.mean(w)), n=int(len(y)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "tmp", "intervals-vs-darts")
    os.makedirs(out, exist_ok=True)
    result = {}
    for name, cfg in SETS.items():
        df = series_frame(cfg)
        bt = run_lstmkit(name, cfg, df, out)
        # the same backtest with adaptive conformal inference: the model's intervals only
        aci = run_lstmkit(name, cfg, df, out, extra=f"aci_gamma = {ACI_GAMMA}")
        keep_cols = [c for c in aci.columns if c.startswith("model_")]
        aci = aci[["time", "step"] + keep_cols].rename(columns={c: "aci" + c[len("model"):] for c in keep_cols})
        aci["time"] = aci["time"].astype(str)
        bt["time"] = bt["time"].astype(str)
        bt = bt.merge(aci, on=["time", "step"], how="left")
        first = bt["origin"].astype(str).iloc[0]
        dd = run_darts(cfg, df, first)
        m = bt.merge(dd, on=["time", "step"], how="inner")
        names = [c for c in ["model", "aci", "naive", "seasonal_naive", "drift", "mean", "ets", "theta", "darts"]
                 if f"{c}_lower_80" in m.columns]
        keep = np.ones(len(m), bool)
        for c in names:
            for l in LEVELS:
                keep &= m[f"{c}_lower_{int(round(l * 100))}"].notna().values
        m = m[keep]
        res = {}
        for c in names:
            res[c] = {}
            for l in LEVELS:
                L = int(round(l * 100))
                res[c][str(L)] = scores(m["actual"].values, m[f"{c}_lower_{L}"].values,
                                        m[f"{c}_upper_{L}"].values, l)
        result[name] = dict(rows=int(len(m)), forecasters=res)
        print(f"\n### {name}: {len(m)} forecast rows (origins from {m['origin'].iloc[0]}), horizon {cfg['horizon']}")
        print("| forecaster | " + " | ".join(f"cov{int(l*100)} | width{int(l*100)} | winkler{int(l*100)}" for l in LEVELS) + " |")
        print("|---|" + "---|---|---|" * len(LEVELS))
        for c in names:
            cells = []
            for l in LEVELS:
                s = res[c][str(int(round(l * 100)))]
                cells += [f"{100 * s['coverage']:.1f}%", f"{s['width']:.3f}", f"{s['winkler']:.3f}"]
            label = {"darts": "darts ConformalNaiveModel(LinearRegression)",
                     "aci": f"lstmkit model, ACI gamma={ACI_GAMMA}"}.get(c, f"lstmkit {c}")
            print(f"| {label} | " + " | ".join(cells) + " |")
    with open(os.path.join(out, "intervals_vs_darts.json"), "w") as f:
        json.dump(result, f, indent=2)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, len(result), figsize=(12, 5))
        for ax, (name, r) in zip(np.atleast_1d(axes), result.items()):
            for c, v in r["forecasters"].items():
                xs = [v[str(int(l * 100))]["width"] for l in LEVELS]
                ys = [100 * v[str(int(l * 100))]["coverage"] for l in LEVELS]
                ax.plot(xs, ys, "o-", label=c)
            for l in LEVELS:
                ax.axhline(100 * l, color="grey", lw=0.8, ls="--")
            ax.set_title(f"{name} ({r['rows']} rows)")
            ax.set_xlabel("mean width")
            ax.set_ylabel("coverage %")
        np.atleast_1d(axes)[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "intervals_vs_darts.png"), dpi=100)
    except ImportError:
        pass
    print(f"\nwrote {out}/intervals_vs_darts.json")


if __name__ == "__main__":
    main()
