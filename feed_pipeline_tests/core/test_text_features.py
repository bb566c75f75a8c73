"""Deterministic facts from job text: clean titles, short descriptions, seniority, remote policy, deadlines,
and the phrase matcher the offline classifier scores with."""
from __future__ import annotations

import pytest

from feed_pipeline.core.keyword_match import PhraseMatcher, tokenize
from feed_pipeline.core.text_features import (
    clean_title,
    deadline_from_text,
    remote_policy_from_text,
    seniority_from_title,
    short_description,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("SR. SOFTWARE ENGINEER - $150K - Austin, TX (Remote)", "Senior Software Engineer"),
        ("Class A CDL Truck Driver - $1,500/week - Home Weekends", "Class A CDL Truck Driver"),
        ("URGENT HIRING!!! Warehouse Associate", "Warehouse Associate"),
        ("Now Hiring: Line Cook", "Line Cook"),
        ("Sales Associate (Part-Time)", "Sales Associate"),
        ("CNC MACHINIST - 2ND SHIFT", "CNC Machinist"),
        ("Asst Store Mgr", "Assistant Store Manager"),
        ("Software Engineer - Backend", "Software Engineer - Backend"),
        ("Immediate Care Nurse", "Immediate Care Nurse"),
        ("Registered Nurse (RN) - ICU", "Registered Nurse (RN) - ICU"),
        ("Food &amp; Beverage Manager", "Food & Beverage Manager"),
        ("HIRING", "Hiring"),
    ],
)
def test_clean_title_drops_noise_and_keeps_the_role(raw, clean):
    assert clean_title(raw) == clean


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Senior Accountant", "senior"), ("Sr. Data Engineer", "senior"), ("Software Engineer III", "senior"),
        ("Software Engineer II", "mid"), ("Engineer I", "entry"), ("Junior Developer", "entry"),
        ("Summer Intern - Marketing", "intern"), ("Store Manager", "manager"), ("Director of Nursing", "director"),
        ("VP, Engineering", "executive"), ("Lead Cook", "lead"), ("Staff Software Engineer", "lead"),
        ("Staff Accountant", None), ("Class A CDL Driver", None), ("Line Cook", None),
    ],
)
def test_seniority_comes_from_the_title_only_when_stated(title, level):
    assert seniority_from_title(title) == level


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("This is a fully remote position.", "remote"), ("Hybrid: 3 days in office", "hybrid"),
        ("This is not a remote position; on-site in Austin.", "onsite"), ("Work on-site at our plant.", "onsite"),
        ("Great pay and benefits.", None),
    ],
)
def test_remote_policy_reads_what_the_text_says(text, policy):
    assert remote_policy_from_text(text) == policy


@pytest.mark.parametrize(
    ("text", "deadline"),
    [
        ("<p>Apply by March 15, 2027.</p>", "2027-03-15"),
        ("Application deadline: 2027-01-31", "2027-01-31"),
        ("Applications close 12/01/2027 at noon", "2027-12-01"),
        ("Closing date: 5th June 2027", "2027-06-05"),
        ("Apply by February 30, 2027", None),
        ("Founded in 2019, we started on May 3, 2019.", None),
    ],
)
def test_deadline_is_found_only_next_to_a_deadline_cue(text, deadline):
    assert deadline_from_text(text) == deadline


def test_short_description_takes_whole_opening_sentences_within_the_limit():
    text = "<p>Job Summary: We are hiring a nurse. You will care for patients.</p><p>" + "More words. " * 60 + "</p>"
    short = short_description(text, max_chars=80)
    assert short == "We are hiring a nurse. You will care for patients. More words. More words."
    long_sentence = "word " * 100
    cut = short_description(long_sentence, max_chars=50)
    assert cut.endswith("...") and len(cut) <= 50 and "wor..." not in cut


def test_tokenizer_folds_plurals_case_and_hyphens_but_keeps_symbols():
    assert tokenize("Full-Stack Nurses; C#, .NET & R&D") == ["full", "stack", "nurse", "c#", ".net", "r&d"]


def test_phrase_matcher_tolerates_typos_only_in_long_phrases_without_digits():
    matcher = PhraseMatcher(["kubernetes", "registered nurse", "osha 10", "rn", "counselor"])
    found = matcher.find("Kubernets on-call; Registered Nurses; OSHA 30; school counsellor; on call")
    assert found == {"kubernetes", "registered nurse", "counselor"}
    assert matcher.find("RN wanted") == {"rn"}
    assert matcher.find("Return policy") == set()
