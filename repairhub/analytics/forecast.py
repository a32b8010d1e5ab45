"""Volume forecast (AN8): reported orders for the next weeks, in total and per category, with a
prediction interval. The model in plain words, its limits and the settings: docs/forecast.md.

One GROUP BY gives the daily counts (local day × category) of the history window; each series
(the total, and one per top-level category — or per child of the filtered category) gets its
own fit:

- a Poisson regression on the log of the daily mean (a GLM, fitted by iteratively reweighted
  least squares with a slight ridge so that a rare effect cannot run off to infinity), with a
  linear trend, the day of the week, Chinese public holidays and 调休 make-up working days
  (chinese-calendar), and a yearly Fourier series (term start, summer and winter breaks) once
  the series has a year of history;
- overdispersion: the variance of a day is the dispersion φ times its mean (quasi-Poisson),
  φ from the Pearson residuals of days, or of whole weeks when weeks vary more than
  independent days would (a run of reports lasting several days);
- the interval of a week is the spread of simulated weekly sums: coefficients drawn from their
  estimated distribution, then each day's count drawn around its mean with variance φ × mean
  (negative binomial), summed over the week. Daily errors thus add up the way counts do, and
  the uncertainty of the fitted pattern is in the band too.

Too little history is refused in words (series `status` "insufficient"); less than a year
degrades to a fit without the yearly terms and says so ("no_yearly").
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from repairhub.sla.calendar import holiday_name, package_workday
from repairhub.workorders.errors import InvalidInput
from repairhub.workorders.models import Category

from .expressions import LocalBucket
from .periods import Filters, Grain, Period
from .queries import _category_rollup, reported

TOTAL = "total"
# Full weeks of history drawn before the forecast.
SHOWN_WEEKS = 26
YEAR = 365.25
# Log-means are clipped here before exp(): no day expects e^12 ≈ 160,000 orders.
MAX_LOG = 12.0
WEEKDAYS = 7


@dataclass(frozen=True)
class Options:
    """The forecast settings (docs/forecast.md, "Settings"), read with their defaults."""

    weeks: int = 8
    max_weeks: int = 12
    level: int = 80  # percent
    history_days: int = 3 * 365
    min_days: int = 56
    yearly_days: int = 365
    min_orders: int = 50
    harmonics: int = 8
    ridge: float = 1.0
    simulations: int = 2000
    cache_seconds: int = 3600

    @classmethod
    def from_settings(cls) -> Options:
        names = {
            "weeks": "ANALYTICS_FORECAST_WEEKS",
            "max_weeks": "ANALYTICS_FORECAST_MAX_WEEKS",
            "level": "ANALYTICS_FORECAST_LEVEL",
            "history_days": "ANALYTICS_FORECAST_HISTORY_DAYS",
            "min_days": "ANALYTICS_FORECAST_MIN_DAYS",
            "yearly_days": "ANALYTICS_FORECAST_YEARLY_DAYS",
            "min_orders": "ANALYTICS_FORECAST_MIN_ORDERS",
            "harmonics": "ANALYTICS_FORECAST_HARMONICS",
            "ridge": "ANALYTICS_FORECAST_RIDGE",
            "simulations": "ANALYTICS_FORECAST_SIMULATIONS",
            "cache_seconds": "ANALYTICS_FORECAST_CACHE_SECONDS",
        }
        default = cls()
        values = {}
        for attr, name in names.items():
            kind = type(getattr(default, attr))
            values[attr] = kind(getattr(settings, name, getattr(default, attr)))
        return cls(**values)


def _whole(value, field: str, low: int, high: int, message: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(message % {"low": low, "high": high, "value": text}, field=field)
    return int(text)


def parse_horizon(weeks=None, level=None, *, opts: Options | None = None) -> tuple[int, int]:
    """(weeks, level in percent) from page or API input; empty means the configured default."""
    opts = opts or Options.from_settings()
    weeks = opts.weeks if weeks in (None, "") else weeks
    level = opts.level if level in (None, "") else level
    n = _whole(
        weeks,
        "weeks",
        1,
        opts.max_weeks,
        _("预测周数必须是 %(low)d 到 %(high)d 之间的整数（收到“%(value)s”）。"),
    )
    pct = _whole(
        level,
        "level",
        50,
        99,
        _("预测区间的置信水平必须是 %(low)d 到 %(high)d 之间的整数百分比（收到“%(value)s”）。"),
    )
    return n, pct


# --- calendar features -------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def day_kind(day: date) -> str | None:
    """ "holiday" (inside a public holiday), "makeup" (a weekend day worked for 调休), "" for an
    ordinary day; None when chinese-calendar has no data for the year (treated as ordinary).
    The package is read through the SLA calendar, which already copes with missing years."""
    workday = package_workday(day)
    if workday is None:
        return None
    if not workday and holiday_name(day):
        return "holiday"
    if workday and day.weekday() >= 5:
        return "makeup"
    return ""


def features(days: list[date], *, origin: date, harmonics: int) -> np.ndarray:
    """The design matrix: intercept, trend (years from `origin`), Tuesday…Sunday against
    Monday, holiday, make-up day, then `harmonics` sine/cosine pairs of the day of the year."""
    n = len(days)
    weekday = np.array([d.weekday() for d in days])
    kinds = [day_kind(d) for d in days]
    cols = [np.ones(n), np.array([(d - origin).days / YEAR for d in days])]
    cols += [(weekday == k).astype(float) for k in range(1, WEEKDAYS)]
    cols.append(np.array([k == "holiday" for k in kinds], dtype=float))
    cols.append(np.array([k == "makeup" for k in kinds], dtype=float))
    if harmonics:
        angle = 2 * math.pi * np.array([d.timetuple().tm_yday for d in days], dtype=float) / YEAR
        for k in range(1, harmonics + 1):
            cols += [np.sin(k * angle), np.cos(k * angle)]
    return np.column_stack(cols)


# Column positions in features().
TREND, FIRST_WEEKDAY, HOLIDAY, MAKEUP, FIRST_HARMONIC = 1, 2, 8, 9, 10


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    beta: np.ndarray
    cov: np.ndarray  # of beta, already scaled by the dispersion
    dispersion: float


def _means(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return np.exp(np.clip(X @ beta, -MAX_LOG, MAX_LOG))


def fit_counts(y: np.ndarray, X: np.ndarray, days: list[date], *, ridge: float) -> Fit:
    """Poisson regression with a log link by iteratively reweighted least squares; the
    intercept is not shrunk. Dispersion: the larger of the daily and the weekly Pearson
    ratio, never below 1."""
    penalty = np.full(X.shape[1], ridge)
    penalty[0] = 0.0
    beta = np.zeros(X.shape[1])
    beta[0] = math.log(max(float(y.mean()), 1e-3))
    for _step in range(100):
        mu = _means(X, beta)
        z = X @ beta + (y - mu) / mu
        new = np.linalg.solve(X.T @ (X * mu[:, None]) + np.diag(penalty), X.T @ (mu * z))
        done = float(np.max(np.abs(new - beta))) < 1e-8
        beta = new
        if done:
            break
    mu = _means(X, beta)
    free = max(len(y) - X.shape[1], 1)
    daily = float(np.sum((y - mu) ** 2 / mu)) / free
    dispersion = max(1.0, daily, _weekly_dispersion(y, mu, days))
    info = np.linalg.inv(X.T @ (X * mu[:, None]) + np.diag(penalty))
    return Fit(beta=beta, cov=info * dispersion, dispersion=dispersion)


def _weekly_dispersion(y: np.ndarray, mu: np.ndarray, days: list[date]) -> float:
    """Pearson ratio of whole Monday–Sunday weeks. Near the daily one when days are
    independent; larger when errors run on over several days, which widens a week's interval
    beyond what independent days would give."""
    starts = [i for i, d in enumerate(days) if d.weekday() == 0 and i + WEEKDAYS <= len(days)]
    if len(starts) < 4:
        return 1.0
    ratios = [
        (y[i : i + WEEKDAYS].sum() - mu[i : i + WEEKDAYS].sum()) ** 2 / mu[i : i + WEEKDAYS].sum()
        for i in starts
    ]
    return float(np.mean(ratios))


def predict_sums(
    fit: Fit, X: np.ndarray, groups: list[list[int]], *, level: float, simulations: int, seed: int
) -> list[tuple[float, int, int]]:
    """(expected, lower, upper) of the sum of the counts of each group of future days (rows of
    `X`): the central `level` share of simulated sums, the count noise of every day included."""
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(fit.beta, fit.cov, size=simulations, method="eigh")
    means = np.exp(np.clip(draws @ X.T, -MAX_LOG, MAX_LOG))
    if fit.dispersion > 1.0 + 1e-6:
        # Gamma-Poisson: mean m, variance φ·m.
        scale = fit.dispersion - 1.0
        means = rng.gamma(means / scale, scale)
    counts = rng.poisson(means)
    expected = _means(X, fit.beta)
    out = []
    for rows in groups:
        sums = counts[:, rows].sum(axis=1)
        low, high = np.quantile(sums, [(1 - level) / 2, (1 + level) / 2])
        out.append((float(expected[rows].sum()), math.floor(low), math.ceil(high)))
    return out


def _effects(fit: Fit, *, yearly: bool, harmonics: int) -> dict:
    """The fitted pattern as factors a manager can read: weekdays relative to their mean,
    holiday and make-up day relative to the same weekday otherwise, months relative to the
    year, trend as a yearly change."""
    b = fit.beta
    week = np.exp(np.concatenate([[0.0], b[FIRST_WEEKDAY:HOLIDAY]]))
    out = {
        "weekday": [round(float(v), 3) for v in week / week.mean()],
        "holiday": round(float(math.exp(b[HOLIDAY])), 3),
        "makeup": round(float(math.exp(b[MAKEUP])), 3),
        "trend_per_year": round(float(math.exp(b[TREND]) - 1), 3),
        "months": None,
    }
    if yearly:
        ref = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
        angle = 2 * math.pi * np.array([d.timetuple().tm_yday for d in ref], dtype=float) / YEAR
        season = np.zeros(len(ref))
        for k in range(1, harmonics + 1):
            s, c = b[FIRST_HARMONIC + 2 * (k - 1)], b[FIRST_HARMONIC + 2 * (k - 1) + 1]
            season += s * np.sin(k * angle) + c * np.cos(k * angle)
        level = np.exp(season)
        months = np.array([d.month for d in ref])
        by_month = np.array([level[months == m].mean() for m in range(1, 13)])
        out["months"] = [round(float(v), 3) for v in by_month / by_month.mean()]
    return out


# --- one series --------------------------------------------------------------------------------


def _week_sum(counts: dict[date, int], monday: date) -> int:
    return sum(counts.get(monday + timedelta(days=i), 0) for i in range(WEEKDAYS))


def forecast_series(
    counts: dict[date, int], *, today: date, weeks: int, level: int, opts: Options, seed: int = 0
) -> dict:
    """Forecast one series from its daily counts (local days before `today`). Weeks run Monday
    to Sunday from the current week; the days of this week before today are known and added."""
    week0 = today - timedelta(days=today.weekday())
    seen = [d for d, n in counts.items() if n and d < today]
    first = min(seen) if seen else today
    history = (today - first).days
    orders = sum(n for d, n in counts.items() if d >= first and d < today)
    shown = [week0 - timedelta(weeks=SHOWN_WEEKS - i) for i in range(SHOWN_WEEKS)]
    out: dict = {
        "status": "ok",
        "message": "",
        "history_days": history,
        "orders": orders,
        "history": [
            {"week": w.isoformat(), "count": _week_sum(counts, w)} for w in shown if w >= first
        ],
        "forecast": [],
        "effects": None,
        "dispersion": None,
    }
    if history < opts.min_days:
        out["status"] = "insufficient"
        out["message"] = _(
            "历史只有 %(days)d 天，至少需要 %(min)d 天（%(weeks)d 周）才能预测，暂不预测。"
        ) % {"days": history, "min": opts.min_days, "weeks": opts.min_days // WEEKDAYS}
        return out
    if orders < opts.min_orders:
        out["status"] = "insufficient"
        out["message"] = _("历史中只有 %(n)d 张报修单，至少需要 %(min)d 张才能预测，暂不预测。") % {
            "n": orders,
            "min": opts.min_orders,
        }
        return out
    yearly = history >= opts.yearly_days
    # One year shows each season once: half the detail until a second year confirms it.
    harmonics = 0
    if yearly:
        harmonics = opts.harmonics if history >= 2 * opts.yearly_days else (opts.harmonics + 1) // 2
    if not yearly:
        out["status"] = "no_yearly"
        out["message"] = _(
            "历史只有 %(days)d 天，不足一年：预测只含星期、节假日和趋势，不含开学、寒暑假等"
            "季节变化；预测期跨越这些时段时可能明显偏差。"
        ) % {"days": history}
    days = [first + timedelta(days=i) for i in range(history)]
    y = np.array([counts.get(d, 0) for d in days], dtype=float)
    try:
        fit = fit_counts(
            y, features(days, origin=today, harmonics=harmonics), days, ridge=opts.ridge
        )
    except np.linalg.LinAlgError:
        out["status"] = "insufficient"
        out["message"] = _("历史数据无法拟合出稳定的模型，暂不预测。")
        return out
    future = [today + timedelta(days=i) for i in range((week0 - today).days + 7 * weeks)]
    groups = [
        [i for i, d in enumerate(future) if (d - week0).days // WEEKDAYS == w] for w in range(weeks)
    ]
    sums = predict_sums(
        fit,
        features(future, origin=today, harmonics=harmonics),
        groups,
        level=level / 100,
        simulations=opts.simulations,
        seed=seed,
    )
    for w, (expected, low, high) in enumerate(sums):
        monday = week0 + timedelta(weeks=w)
        known = _week_sum(counts, monday) if w == 0 else 0
        year_ago = monday - timedelta(weeks=52)
        out["forecast"].append(
            {
                "week": monday.isoformat(),
                "expected": round(expected + known, 1),
                "lower": low + known,
                "upper": high + known,
                "observed": known,
                "last_year": _week_sum(counts, year_ago) if year_ago >= first else None,
            }
        )
    out["effects"] = _effects(fit, yearly=yearly, harmonics=harmonics)
    out["dispersion"] = round(fit.dispersion, 2)
    return out


def missing_years(first: date, last: date) -> list[int]:
    """Years between two days that chinese-calendar has no holidays for."""
    return [y for y in range(first.year, last.year + 1) if day_kind(date(y, 6, 1)) is None]


# --- from the database -------------------------------------------------------------------------


def daily_counts(f: Filters, start: date, end: date) -> list[dict]:
    """Orders reported per local day and category from `start` to `end` (both included)."""
    period = Period(start, end, Grain.DAY)
    return list(
        reported(period, f)
        .order_by()
        .annotate(day=LocalBucket("created_at", Grain.DAY, period))
        .values("day", "category_id")
        .annotate(n=Count("pk"))
    )


def _cache_key(f: Filters, weeks: int, level: int, today: date, opts: Options) -> str:
    scope = {
        **f.as_params(),
        "teams": list(f.teams) if f.teams is not None else None,
        "weeks": weeks,
        "level": level,
        "today": today.isoformat(),
        "opts": repr(opts),
        "language": get_language(),  # the messages in the result are in it
    }
    digest = hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()[:32]
    return f"analytics:forecast:{digest}"


def forecast(
    f: Filters, *, weeks: int | None = None, level: int | None = None, today: date | None = None
) -> dict:
    """The forecast page's and API's figures: the total and one series per category (top-level
    without a category filter, the filtered category's children with one). Cached for
    ANALYTICS_FORECAST_CACHE_SECONDS: the history ends yesterday, so it changes once a day."""
    opts = Options.from_settings()
    weeks, level = parse_horizon(weeks, level, opts=opts)
    today = today or timezone.localdate()
    key = _cache_key(f, weeks, level, today, opts)
    if opts.cache_seconds > 0:
        found = cache.get(key)
        if found is not None:
            return found
    result = _compute(f, weeks=weeks, level=level, today=today, opts=opts)
    if opts.cache_seconds > 0:
        cache.set(key, result, opts.cache_seconds)
    return result


def _compute(f: Filters, *, weeks: int, level: int, today: date, opts: Options) -> dict:
    start = today - timedelta(days=opts.history_days)
    rows = daily_counts(f, start, today - timedelta(days=1))
    label = _category_rollup(f)
    total: dict[date, int] = {}
    parts: dict[str, dict[date, int]] = {}
    names: dict[str, str] = {}
    for r in rows:
        total[r["day"]] = total.get(r["day"], 0) + r["n"]
        lab = label(r["category_id"])
        names[lab.key] = lab.label
        series = parts.setdefault(lab.key, {})
        series[r["day"]] = series.get(r["day"], 0) + r["n"]
    leaf = f.category is not None and not f.category.children.exists()
    codes = dict(Category.objects.filter(pk__in=[int(k) for k in parts]).values_list("pk", "code"))
    out_series = []
    total_label = str(f.category) if f.category is not None else _("全部报修")
    candidates = [(TOTAL, "", total_label, total)]
    if not leaf:
        ordered = sorted(parts, key=lambda k: (-sum(parts[k].values()), names[k]))
        candidates += [(k, codes.get(int(k), ""), names[k], parts[k]) for k in ordered]
    for key, code, name, counts in candidates:
        seed = zlib.crc32(f"{key}:{today.isoformat()}".encode())
        series = forecast_series(
            counts, today=today, weeks=weeks, level=level, opts=opts, seed=seed
        )
        out_series.append({"key": key, "code": code, "label": name, **series})
    week0 = today - timedelta(days=today.weekday())
    notes = []
    years = missing_years(start, week0 + timedelta(weeks=weeks) - timedelta(days=1))
    if years:
        notes.append(
            _(
                "节假日数据缺少 %(years)s 年：这些年份的法定节假日和调休按普通日期计算，"
                "节假日前后的预测可能偏差。"
            )
            % {"years": _("、").join(str(y) for y in years)}
        )
    if f.teams is not None:
        notes.append(
            _(
                "班组长看到的预测只含已派给本班组的工单：最近几天的新报修多半还没有派工，"
                "历史末尾和预测会偏低。"
            )
        )
    return {
        "today": today.isoformat(),
        "weeks": weeks,
        "level": level,
        "filters": f.as_params(),
        "notes": notes,
        "series": out_series,
    }
