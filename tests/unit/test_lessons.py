"""Lessons: every step's link reads back, through the sidebar's own parsing, as exactly the
step's settings; a step the knob table would refuse cannot become a link; and every question's
answer is what a real forward pass of the step's model shows (not only what the tracer says)."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
import torch

from lstmae_demo import lessons, pagevalues
from lstmae_demo.archs import build_model
from lstmae_demo.config import AppConfig
from lstmae_demo.data import load
from lstmae_demo.lessons import STEPS, Step, check_step, config_of, step_url
from lstmae_demo.settings import ARCHS, KNOB, defaults, parse_params
from lstmae_demo.shapes.trace import trace


def _series(config: AppConfig) -> torch.Tensor:
    return torch.from_numpy(load(config.data).val[0:1])  # (1, T, F): validation series 1


def _step(title_part: str) -> Step:
    return next(s for s in STEPS if title_part in s.title)


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.title)
def test_each_link_reads_back_as_exactly_the_step_settings(step: Step) -> None:
    url = step_url(step, "http://school.example:8501")
    parts = urlsplit(url)
    assert parts.path.strip("/") == ("" if step.page == "home" else step.page)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    values, notes = parse_params(query)  # what the sidebar does with a link
    assert notes == []
    assert values == defaults() | dict(step.settings) == dict(config_of(step).values)
    assert {k: v for k, v in query.items() if k not in KNOB} == dict(step.page_values)


def test_the_steps_open_several_pages_and_no_two_links_are_the_same() -> None:
    assert 5 <= len(STEPS) <= 7
    urls = [step_url(s) for s in STEPS]
    assert len(set(urls)) == len(urls)
    assert {s.page for s in STEPS} >= {"home", "architecture", "timesteps", "train"}


def test_the_lesson_link_names_its_step_and_refuses_one_past_the_end() -> None:
    assert lessons.lesson_url(1, "http://h") == "http://h/lessons"
    assert lessons.lesson_url(3, "http://h") == "http://h/lessons?lesson_step=3"
    with pytest.raises(ValueError, match="lesson_step"):
        lessons.lesson_url(len(STEPS) + 1)


@pytest.mark.parametrize("change, problem", [
    ({"settings": {"unitz": 8}}, "unknown knob 'unitz'"),
    ({"settings": {"units": 300}}, "between 1 and 256"),
    ({"settings": {"units": "32"}}, "reads back as 32"),  # a string where the knob has a number
    ({"settings": {"reads": "everything"}}, "must be one of state, attention, steps"),
    ({"settings": {"arch": "embedding", "n_features": 2}}, "embedding needs n_features = 1"),
    ({"settings": {"arch": "encdec_ad", "seq_len": 1}}, "encdec_ad needs seq_len >= 2"),
    ({"page": "settings"}, "unknown page 'settings'"),
    ({"page_values": {"ts_step": "51"}}, "ts_step='51' is not allowed"),
    ({"page_values": {"ts_model": "best"}}, "ts_model='best' is not allowed"),
    ({"page": "train", "page_values": {"ts_step": "5"}}, "train has no URL value 'ts_step'"),
])
def test_a_step_the_app_would_refuse_cannot_become_a_link(change, problem) -> None:
    step = dataclasses.replace(_step("Why h_n"), **change)
    with pytest.raises(ValueError, match=problem.replace("(", r"\(")):
        check_step(step)
    with pytest.raises(ValueError):
        step_url(step)


@pytest.mark.parametrize("name, value, seq_len", [
    ("ts_series", "16", 50), ("ts_series", "17", 50), ("ts_series", "0", 50),
    ("ts_step", "50", 50), ("ts_step", "51", 50), ("ts_step", "5", 4), ("ts_step", "05", 50),
    ("ts_model", "trained", 50), ("ts_model", "best", 50), ("ts_model", " trained", 50)])
def test_a_steps_time_steps_values_follow_the_pages_own_rules(name, value, seq_len) -> None:
    """One home for the rules: lessons checks a link with the parsers the page itself reads
    its URL with (pagevalues, no streamlit), and refuses a value the page would read back
    otherwise (' trained', '05')."""
    rule = pagevalues.timesteps_rules(seq_len)[name]
    try:
        page_takes = str(rule(value)) == value
    except ValueError:
        page_takes = False
    step = dataclasses.replace(_step("Why h_n"), settings={"seq_len": seq_len},
                               page_values={name: value})
    if page_takes:
        check_step(step)
    else:
        with pytest.raises(ValueError, match=f"{name}='{value}' is not allowed"):
            check_step(step)
    assert page_takes == ((name, value, seq_len) in {
        ("ts_series", "16", 50), ("ts_step", "50", 50), ("ts_model", "trained", 50)})


def test_the_time_steps_page_offers_at_most_its_datas_validation_series() -> None:
    assert pagevalues.timesteps_rules(50, n_val=4)["ts_series"]("4") == 4
    with pytest.raises(ValueError, match="from 1 to 4"):
        pagevalues.timesteps_rules(50, n_val=4)["ts_series"]("5")
    assert pagevalues.timesteps_defaults(30, trained=False) == {
        "ts_model": "untrained", "ts_series": 1, "ts_step": 30}


def test_every_question_has_its_answer_among_its_choices() -> None:
    for step in STEPS:
        question = step.ask()
        assert question.answer in question.choices and len(question.choices) >= 2
        assert question.prompt and question.explanation


def test_the_code_that_grows_with_t_is_the_one_a_forward_pass_finds() -> None:
    step = _step("code of each")
    config = config_of(step)
    grows = []
    for arch in ARCHS:
        sizes = []
        for seq_len in (config.values["seq_len"], config.values["seq_len"] + 10):
            c = config.with_values(arch=arch, seq_len=seq_len)
            sizes.append(build_model(c.spec, seed=0).eval().encode(_series(c)).shape[1])
        if sizes[1] != sizes[0]:
            grows.append(arch)
    assert [step.ask().answer] == grows == ["embedding"]


def test_what_the_copying_decoder_reads_is_what_its_encode_returns() -> None:
    step = _step("Copying")
    config = config_of(step)
    with torch.no_grad():
        read = build_model(config.spec, seed=0).eval().encode(_series(config)).shape[1]
    answer = int(step.ask().answer.replace(",", ""))
    assert answer == read > config.spec.seq_len * config.spec.n_features  # more than the input


def test_h_at_the_middle_step_is_not_handed_on_in_a_real_forward_pass() -> None:
    """Overwrite the second encoder LSTM's output at the question's step: if it were handed
    on, the reconstruction would change. It does not; at the last step's h_n, it does."""
    step = _step("Why h_n")
    config = config_of(step)
    t = int(step.page_values["ts_step"])
    model = build_model(config.spec, seed=0).eval()
    x = _series(config)
    lstm = model.get_submodule(trace(config.spec, 1).record("encoder LSTM 2").module).rnn

    def reconstruct(change=None) -> np.ndarray:
        handle = lstm.register_forward_hook(change) if change else None
        try:
            with torch.no_grad():
                return model.reconstruct(x).numpy()
        finally:
            if handle:
                handle.remove()

    def output_at_t(_m, _i, out):
        output, (h_n, c_n) = out
        output = output.clone()
        output[:, t - 1] += 5.0
        return output, (h_n, c_n)

    def last_h(_m, _i, out):
        output, (h_n, c_n) = out
        return output, (h_n + 5.0, c_n)

    plain = reconstruct()
    handed_on = not np.allclose(reconstruct(output_at_t), plain)
    assert not np.allclose(reconstruct(last_h), plain)  # the check can see a change
    answer = step.ask().answer
    assert answer.startswith("yes") == handed_on and answer.startswith("no")


def test_the_first_step_the_paper_rebuilds_is_the_last_one_in_a_real_forward_pass() -> None:
    """x'(L) is the head applied to the handed-over state alone, before any decoder step."""
    step = _step("backwards")
    config = config_of(step)
    model = build_model(config.spec, seed=0).eval()
    x = _series(config)
    with torch.no_grad():
        out = model.reconstruct(x)[0]
        from_code = model.head(model.encode(x))[0]
    first = [i for i in range(config.spec.seq_len) if torch.allclose(out[i], from_code)]
    assert first == [config.spec.seq_len - 1]
    assert step.ask().answer == f"x'({first[0] + 1}), the last step"


def test_the_mean_plateau_answer_is_the_mse_of_predicting_the_training_mean() -> None:
    step = _step("Train one")
    data = load(config_of(step).data)
    predicted = np.broadcast_to(data.train.mean(), data.val.shape)
    assert step.ask().answer == f"{float(np.mean((data.val - predicted) ** 2)):.2g}"
