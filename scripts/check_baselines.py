"""StatsForecast's ETS and Theta forecasts on public series, as fixtures for lstmkit's baselines.

usage: ~/.cache/lstmkit-bench/bin/python scripts/check_baselines.py [--data ../shared/data] [--out tests/data/baselines]

For each case it fits StatsForecast's AutoETS(model="AZZ", additive error: trend N/A/Ad and season
N/A chosen by AICc, or "AZN" where the period exceeds 24) and Theta (the standard theta model with
its seasonal test and multiplicative decomposition) on the first `n_fit` rows and writes the
series, the forecasts, and the chosen ETS model with its parameters to OUT/<case>.json. The Rust
test tests/it/baselines_reference.rs fits lstmkit's ETS and Theta on the same rows and compares.
"""
import argparse, json, os
import numpy as np, pandas as pd
from statsforecast.models import AutoETS, Theta

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "baselines"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)

vis = pd.read_csv(os.path.join(a.data, "visnights_long.csv"))
co2 = pd.read_csv(os.path.join(a.data, "co2_weekly.csv"))
elec = pd.read_csv(os.path.join(a.data, "elecdaily.csv"))
cases = [
    # name, values, season, rows fitted, horizon, ETS model string
    ("co2_weekly", co2["co2"].values, 52, 1827, 26, "AZN"),
    ("visnights_nswmetro", vis[vis.region == "NSWMetro"]["trips"].values, 4, 68, 8, "AZZ"),
    ("visnights_qldmetro", vis[vis.region == "QLDMetro"]["trips"].values, 4, 68, 8, "AZZ"),
    ("elecdaily_demand", elec["Demand"].values, 7, 304, 14, "AZZ"),
]
for name, y, m, n_fit, h, spec in cases:
    y = np.asarray(y, dtype=np.float64)
    fit = y[:n_fit]
    ets = AutoETS(season_length=m, model=spec).fit(fit)
    num = lambda v: None if np.isnan(v) else float(v)  # JSON has no NaN
    mod = ets.model_
    par = mod["par"]
    th = Theta(season_length=m).fit(fit)
    out = {
        "name": name, "season": m, "n_fit": n_fit, "horizon": h, "y": y[: n_fit + h].tolist(),
        "ets": {"spec": spec, "method": mod["method"], "components": mod["components"],
                "alpha": num(par[0]), "beta": num(par[1]), "gamma": num(par[2]), "phi": num(par[3]),
                "aicc": float(mod["aicc"]), "loglik": float(mod["loglik"]),
                "forecast": ets.predict(h)["mean"].tolist()},
        "theta": {"forecast": th.predict(h)["mean"].tolist(),
                  "alpha": float(th.model_["par"]["alpha"]),
                  "initial_smoothed": float(th.model_["par"]["initial_smoothed"]),
                  "decompose": bool(th.model_.get("decompose", False)),
                  "decomposition_type": th.model_.get("decomposition_type")},
    }
    with open(os.path.join(a.out, f"{name}.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{name}: {out['ets']['method']} alpha={out['ets']['alpha']:.4f} aicc={out['ets']['aicc']:.2f}; "
          f"theta alpha={out['theta']['alpha']:.4f} decompose={out['theta']['decompose']}")
