"""Anomalies: EncDec-AD's detection (arXiv 1607.00148, Section 2.2) with a model trained on normal
series only: errors, N(mu, Sigma), scores, the F_beta-best threshold, and how it does on a test
set with anomalies."""

import streamlit as st

from lstmae_demo import chart_text
from lstmae_demo.anomaly import lab
from lstmae_demo.anomaly.figures import pr_figure, score_figure, series_figure
from lstmae_demo.config import training_budget
from lstmae_demo.jobs import validate_job
from lstmae_demo.shapes.trace import trace
from lstmae_demo.ui import anomalies as ui
from lstmae_demo.ui import views
from lstmae_demo.ui.charts import chart
from lstmae_demo.ui.sidebar import choose, current, show_url_notes
from lstmae_demo.ui.training import (
    current_run,
    job_spec,
    start_run,
    stop_run,
    trained_model,
)

PAPER_ARCH = "encdec_ad"

show_url_notes()
config = current()
spec = config.spec
st.title("Anomalies")
st.caption("EncDec-AD (Malhotra et al. 2016, Section 2.2): train on normal series only; the "
           "error of each step e(i) = |x(i) − x′(i)|; a normal distribution N(μ, Σ) fitted to "
           "the errors of normal validation series; the score a(i) = (e − μ)ᵀ Σ⁻¹ (e − μ); the "
           "threshold τ that maximises F_β on validation series with and without anomalies; "
           "then precision and recall on a test set. The model is the sidebar's.")
if spec.arch != PAPER_ARCH:
    left, right = st.columns([3, 1])
    left.info(f"The paper's model is `{PAPER_ARCH}`; the sidebar has `{spec.arch}`. Every "
              "architecture works here, to compare.")
    right.button(f"Use {PAPER_ARCH} (the paper's)", on_click=choose,
                 kwargs={"arch": PAPER_ARCH}, key="an_use_paper", width="stretch")

choice = ui.read_choice(spec.seq_len)
data = lab.data_config(choice.data, config.sine)
try:
    validate_job(job_spec(config, data=data))
    if choice.data == "sine":
        views.data_or_stop(config)
except ValueError as err:
    st.warning("This model cannot train on this data:")
    st.text(str(err))
    st.stop()

st.header("1. Train on normal series")
data_words = (f"{config.sine.n_series} sine series" if choice.data == "sine" else
              f"the first 80% of the rows of `{lab.BUNDLED[choice.data].normal_file}`")
st.markdown(f"`{spec.arch}` learns to reconstruct {data_words} ({spec.seq_len} steps each), "
            f"with the sidebar's training settings ({config.train.epochs} epochs). No anomaly "
            "is shown to it.")
run = current_run()
trained = trained_model(spec, data)
too_big = training_budget(config, trace(spec, config.train.batch_size).params_torch)
ours = run is not None and run.spec == spec and run.job.job.data == data
going = ours and run.attached and not run.job.snapshot().done
left, right, _ = st.columns([2, 1, 3])
left.button("Train on normal series", type="primary", key="an_train", width="stretch",
            disabled=too_big is not None or going or trained is not None,
            on_click=start_run, args=(config, None, data))
right.button("Stop", key="an_stop", disabled=not going, on_click=stop_run, width="stretch")
if too_big:
    st.error(too_big)
if going:
    ui.progress(run)
if trained is None:
    if not going:
        st.info("Press **Train on normal series**: when it is done, this page scores every "
                "step of the validation and test series with the trained model.")
    st.stop()
st.success(f"Trained: run `{run.run_id}`" + (" (an identical run was shared)"
                                              if run.joined else "") + ".")

try:
    result = ui.result(run.run_id, trained, data, choice, config.values["seed"])
except ValueError as err:
    st.warning("The anomaly lab cannot be set up for these settings:")
    st.text(str(err))
    st.stop()
sets = result.sets

st.header("2. The threshold τ, chosen on validation")
unit_words = lab.UNIT_WORDS[result.unit].split(" (")[0]
best = result.best
n_val_anomalous = int(sets.val_mask.any(axis=1).sum())
st.markdown(
    f"N(μ, Σ) is fitted to the {result.normal_fit.n_vectors:,} error vectors of "
    f"{len(sets.fit)} normal series (μ = {', '.join(f'{m:.3g}' for m in result.normal_fit.mean)}). "
    f"On {len(sets.val)} validation series ({n_val_anomalous} with the injected "
    f"{lab.KIND_WORDS[choice.kind]}), **τ = {best.tau:.4g}** maximises "
    f"F_{result.beta:g} = {best.f_beta:.3f} (precision {best.precision:.3f}, recall "
    f"{best.recall:.3f}, counting {unit_words}).")
result_key = (run.run_id, data, choice)
tau = ui.tau_slider(result_key, result)
st.button("Back to the validation's best τ", on_click=ui.reset_tau, key="an_reset_tau")

st.header("3. On the test set")
test_what = (f"`{lab.BUNDLED[sets.source].test_file}` with NAB's labelled anomaly window"
             if sets.labelled else
             f"{len(sets.test)} other sine series, every second one with the anomaly")
st.caption(f"Test: {test_what}; τ = {tau:.4g}; counting {unit_words}.")
metrics = result.on_test(tau)
numbers, curve = st.columns([1, 1])
p, r, f = numbers.columns(3)
p.metric("precision", f"{metrics.precision:.3f}")
r.metric("recall", f"{metrics.recall:.3f}")
f.metric(f"F_{result.beta:g}", f"{metrics.f_beta:.3f}")
tp, fp = numbers.columns(2)
fn, tn = numbers.columns(2)
tp.metric("true positives", metrics.tp, help="anomalous and flagged")
fp.metric("false positives", metrics.fp, help="normal but flagged")
fn.metric("false negatives", metrics.fn, help="anomalous but missed")
tn.metric("true negatives", metrics.tn, help="normal and not flagged")
best_on_test = result.on_test(best.tau)
pr = pr_figure(result.test_curve, metrics, best_on_test, unit_words)
chart(pr, chart_text.lines_text(pr, f"Precision (up) against recall (across), counting "
                                    f"{unit_words}"), where=curve, width="stretch", key="an_pr")

st.header("4. Where the model fails")
if sets.labelled:
    line = lab.timeline(result)
else:
    with_anomaly = [i for i in range(len(sets.test)) if sets.test_mask[i].any()]
    number = st.number_input("Test series", 1, len(sets.test), with_anomaly[0] + 1,
                             key="an_series", help="Every second series has the anomaly.")
    line = lab.timeline(result, int(min(max(number, 1), len(sets.test))) - 1)
window_label = "labelled anomaly" if sets.labelled else "injected anomaly"
st.caption(f"Shown: {line.title}. The input, its reconstruction x′ and the {window_label} "
           "window (shaded); below, each step's score against τ.")
shown = series_figure(line.x, line.values, line.recon, line.mask, "Input and reconstruction",
                      window_label)
chart(shown, chart_text.lines_text(shown, f"Input and reconstruction of {line.title}, the "
                                          f"{window_label} shaded"),
      width="stretch", key="an_series_plot")
scored = score_figure(line.x, line.scores, line.mask, tau, window_label)
chart(scored, chart_text.score_text(line.scores, line.mask, tau, window_label),
      width="stretch", key="an_score_plot")

st.header("5. Is the anomaly reconstructed worse?")
errors = result.errors
model_words = spec.arch + (f" ({views.choice_line(spec)})" if views.choice_line(spec) else "")
a, n, q = st.columns(3)
a.metric("mean error, anomalous test steps", f"{errors.anomalous:.4f}")
n.metric("mean error, normal test steps", f"{errors.normal:.4f}")
q.metric("ratio anomalous / normal", f"{errors.ratio:.2f}")
st.caption(f"Mean score a(i): {errors.score_anomalous:.3g} on the anomalous steps, "
           f"{errors.score_normal:.3g} on the normal ones. An autoencoder detects an anomaly "
           "only because it reconstructs it worse than normal data.")
copies = spec.arch == "embedding" and spec.reads != "state"
if copies:
    verdict = lab.copy_verdict(errors)
    with st.container(border=True):
        st.markdown(f"**This design can copy.** Its decoder reads every encoder output, so "
                    f"nothing forces it to learn what normal series look like. {verdict}")
ratios = ui.remember_ratio(data, choice, model_words, errors)
if len(ratios) > 1:
    st.markdown("Every model you ran here this session, on this data and anomaly:")
    st.dataframe([{"model": words, "anomalous / normal error": round(r.ratio, 2),
                   "mean error (anomalous)": round(r.anomalous, 4),
                   "mean error (normal)": round(r.normal, 4)}
                  for words, r in sorted(ratios.items(), key=lambda kv: kv[1].ratio)],
                 hide_index=True, width="stretch")
