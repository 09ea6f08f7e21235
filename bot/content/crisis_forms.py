"""Writes ``locales/crisis/forms/<code>.txt``: every inflected form of the intent harm words,
from the simplemma lemmatiser's dictionaries ("mourir" → "meurs", "mourrai", "mourût").

    .venv/bin/python -m bot.content.crisis_forms     # after changing an intent 'harm:' list

simplemma is a development dependency: its dictionaries take seconds and hundreds of
megabytes to load, so the bot reads these small files instead. A test checks they are up
to date with the lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.content.crisis_text import normalise

# The lemmatiser dictionaries each shipped language draws on: Ukrainian teens write Russian
# as often as Ukrainian, and Arabizi has no dictionary.
DICTIONARIES = {"fr": ("fr",), "en": ("en",), "es": ("es",), "ar": ("ar",), "uk": ("uk", "ru")}


INFLECT_FROM = 5  # letters; shorter last words are pronouns or particles ("kill me", "end it")


def harm_words(path: Path) -> dict[str, str]:
    """The last word of each intent harm phrase worth inflecting, folded → as written."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    words: dict[str, str] = {}
    for intent in (doc.get("intent") or {}).values():
        for phrase in intent.get("harm", []):
            last = str(phrase).split()[-1]
            folded = normalise(last).strip()
            if len(folded) >= INFLECT_FROM and " " not in folded:
                words[folded] = last
    return words


def forms_of(words: Iterable[str], dictionary: Mapping[str, str]) -> dict[str, set[str]]:
    """For each folded word, the dictionary forms sharing its lemma (the word may itself be
    a lemma or a form: "morirme" → "morir" → "muero", "moriré")."""
    wanted = set(words)
    fold: dict[str, str] = {}
    lemmas_of: dict[str, set[str]] = {}  # lemma → the listed words it stands for
    for form, lemma in dictionary.items():
        if lemma not in fold:
            fold[lemma] = normalise(lemma).strip()
        for folded in (fold[lemma], normalise(form).strip()):
            if folded in wanted:
                lemmas_of.setdefault(lemma, set()).add(folded)
    found: dict[str, set[str]] = {}
    for form, lemma in dictionary.items():
        for word in lemmas_of.get(lemma, ()):
            if normalise(form).strip() != word and " " not in form:
                found.setdefault(word, set()).add(form.lower())
    return found


def render(words: dict[str, str], found: dict[str, set[str]]) -> str:
    lines = ["# Written by `python -m bot.content.crisis_forms` from simplemma: do not edit."]
    for folded in sorted(words):
        lines.append(f"{words[folded]}: {' '.join(sorted(found.get(folded, ())))}".rstrip())
    return "\n".join(lines) + "\n"


def build(crisis_dir: Path, codes: Iterable[str]) -> dict[str, str]:
    """The text of every forms file, by language code."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    factory = DefaultDictionaryFactory()
    texts = {}
    for code in codes:
        words = harm_words(crisis_dir / f"{code}.yaml")
        found: dict[str, set[str]] = {}
        for lang in DICTIONARIES.get(code, ()):
            for word, forms in forms_of(words, factory.get_dictionary(lang)).items():
                found.setdefault(word, set()).update(forms)
        texts[code] = render(words, found)
    return texts


def main() -> None:
    crisis_dir = PROJECT_ROOT / "locales" / "crisis"
    (crisis_dir / "forms").mkdir(exist_ok=True)
    codes = sorted(p.stem for p in crisis_dir.glob("*.yaml"))
    for code, text in build(crisis_dir, codes).items():
        path = crisis_dir / "forms" / f"{code}.txt"
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {text.count(chr(10)) - 1} words")


if __name__ == "__main__":
    main()
