"""Crisis words in every shipped language: what teens really type must reach the emergency
numbers, ordinary messages must not, and the detector stays cheap enough to run on every
message.

The phrasings below are written the way they arrive: no accents, capitals, stretched
letters, digits for letters, spaced-out letters, emoji, invisible characters, Arabic vowel
marks and tatweel, Cyrillic typed half on a Latin keyboard.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import crisis_eval
from bot.config import PROJECT_ROOT
from bot.content import crisis_text
from bot.content.catalog import Catalog
from bot.content.crisis_forms import harm_words
from bot.content.crisis_lists import load_crisis_words, read_forms
from bot.content.crisis_model import WINDOW, load_model
from bot.content.crisis_text import normalise
from bot.dialogue.service import Dialogue
from bot.domain.crisis import CrisisHit, Tier
from bot.errors import ConfigError, display_path
from tests.fakebotapi import FakeBotApi
from tests.harness import relais_in_process

ZWSP, ZWNJ, ZWJ, SHY = "\u200b", "\u200c", "\u200d", "\u00ad"
TATWEEL = "\u0640"

MUST_TRIGGER: dict[str, list[str]] = {
    "fr": [
        "jveux mourir mdr jsuis serieuse",
        "je vais me tuer ce soir lol",
        "je vais me tuer si il publie mes photos",
        "depuis ce film je veux me suicider",
        "je pense au suicide tous les soirs",
        "depuis ce reportage je pense au suicide tous les jours",
        "jai pris une overdose apres le film",
        "je veux me suicider",
        "JE VAIS ME TUER",
        "j'ai envie de mourir 😭😭",
        "jveux mourirrrr",
        "je pense au suiiiicide",
        "su1c1d3",
        "s u i c i d e",
        "plus envie de vivre franchement",
        "je me scarifie depuis 2 mois",
        "il va me tuer, il est devant chez moi",
        "AU SECOURS",
        "aidez-moi svp",
        f"mettre fin à mes jo{ZWSP}urs",
        "j'en peux plus je veux disparaître",
        "envie de crever",
        "je vais me foutre en l’air",
        "jveux m0urir",
        "jveux plus etre la",
        "j'ai envie de me faire disparaître",
        "je vais me jeter sous un train",
        "je vais avaler tous mes médocs",
        "avaler des medocs ce soir",
        "je me brûle avec un briquet",
        "je me phlebo depuis 1 an",
        "jme scarif",
        "marre de la vieee",
        "je vais faire une OD",
        "tout le monde me dit tue-toi",
        "j'ai reçu des menaces de mort",
        "il a un couteau",
        "je veux plus exister",
        "mon père me frappe",
    ],
    "en": [
        "im gonna kill myself if he posts it",
        "i want to die lol im serious",
        "he said he'd kill me if i tell",
        "after that film i keep thinking about suicide",
        "I want to kill myself",
        "gonna kms",
        "i wanna die 😔",
        "wanna diieee",
        "I'm SUICIDAL",
        "k1ll mys3lf",
        "s u i c i d e",
        "thinking about ending my life",
        "i self-harm",
        "i cut myself again",
        "he's going to kill me",
        "someone is following me home",
        "i dont want to live anymore",
        "HELP ME PLEASE",
        f"i want to d{ZWSP}ie",
        "no reason to live 💔",
        "im gonna unalive myself",
        "everyone would be better off without me",
        "honestly id be better off dead",
        "i just want to disappear 😞",
        "whats even the point of living",
        "gonna OD tonight",
        "i wanna od on my meds",
        "i took all my pillsss",
        "thinking about overdosing",
        "i want to sl1t my wr1sts",
        "gonna jump off a bridge",
        "they told me to kys",
        "everyone in the gc says kill urself",
        "sewer slide",
        "he has a knife",
        "he said hes going to kiiill me",
        "i started burning myself again",
        "my ex keeps sending me death threats",
        "i want to k i l l myself",  # a double letter spaced out
    ],
    "es": [
        "me voy a matar si publica las fotos",
        "quiero morir jaja no es broma",
        "me quiero suicidar",
        "QUIERO MORIR",
        "kiero morirme 😭",
        "no quiero vivir más",
        "me corto los brazos",
        "me voy a mataaar",
        "m4t4rm3",
        "s u i c i d i o",
        "quiero acabar con todo",
        "estoy en peligro, ayúdenme",
        "mi padrastro me va a pegar",
        "hay alguien fuera de mi casa",
        f"quiero quitarme la vi{ZWJ}da",
        "pienso en autolesionarme",
        "me voy a tirar por la ventana",
        "ganas de morir 🥀",
        "kiero irme de este mundo",
        "todos estarían mejor sin mí",
        "estaría mejor muerta",
        "me tomé todas las pastillas",
        "sobredosiiis",
        "quiero dormir y no despertar",
        "me hago cortes en las piernas",
        "quiero lastimarme",
        "me dijeron mátate",
        "ahórcate",
        "mi papá me pega",
        "recibí amenazas de muerte",
        "tiene un cuchillo",
        "no quiero existir",
    ],
    "ar": [
        "بدي انتحر",
        "أُرِيدُ أَنْ أَمُوتَ",
        f"انتح{TATWEEL * 3}ار",
        "فكرت بالانتحار",
        "سأقتل نفسي",
        "رح اقتل حالي",
        "عايزه اموت",
        "تعبت من الحياه",
        "بابا يضربني",
        "انا في خطر ساعدوني",
        f"ان{ZWNJ}تحار",
        "مابدي عيش",
        "ana 3ayez amoot",
        "ana bdi mout 😭",
        "a2tol nafsi",
        "n7eb nmout",
        "ra7 y2telni",
        "نحب نموت",
        "في واحد يلاحقني",
        f"الانـتـحـار{SHY}",
        "ابي امووووت",
        "بدي اموت",
        "يا ريتني مت",
        "مش عايز اعيش",
        "زهقت من حياتي",
        "بدي اختفي",
        "اخذت جرعة زائدة",
        "بلعت حبوب كثير",
        f"جرحت نف{TATWEEL * 2}سي",
        "رجعت للتشريط",
        "قالولي اقتل نفسك",
        "هددني بالقتل",
        "معه سكين",
        "bde mout",
        "bghit nmout",
        "ana 3ayza amoot",
        "ha2tel nafsi",
        "دفعوني للانتحار",
        "خلاص بنتحر",
        "صاحبتي انتحرت",
    ],
    "uk": [
        "я вб'ю себе якщо він це викладе",
        "я хочу вмерти",
        "ХОЧУ ПОМЕРТИ 😭",
        "думаю про суїцид",
        "суицид",
        "хочу покінчити з собою",
        "я ріжу себе",
        "не хочу жить",
        "хочу сдохнуть",
        "мене вб'ють",
        "мене вбʼють",
        "мене вбють",
        "допоможіть!!!",
        "хочу вмееерти",
        "с а м о г у б с т в о",
        "cуїцид",  # Latin "c" at the start
        "CУЇЦИД",  # Latin "C" in capitals
        f"хочу вм{ZWSP}ерти",
        "мене переслідують",
        "думаю про самовбивство",
        "хочу зникнути назавжди",
        "не бачу сенсу жити",
        "нет смысла жить",
        "набридло жити",
        "я випилюсь",
        "я ріжу вени",
        "хочу вскрыть вены",
        "наковтатися таблеток",
        "выпила все таблетки",
        "мене бʼють в школі",
        "у него нож",
        "він погрожує вбити мене",
        "убей себя",
        "у меня была передозировка",
        "хочу стрибнути з мосту",
        "суицидальные мысли",
        "мене довели до суїциду",
    ],
}

MUST_NOT_TRIGGER: dict[str, list[str]] = {
    "fr": [
        "bonjour",
        "je suis harcelé sur insta",
        "on m'insulte sur snap depuis des semaines",
        "quelqu'un a créé un faux compte à mon nom",
        "merci beaucoup",
        "il y a une armée de faux comptes",  # not "a une arme"
        "ils vont me jeter du groupe",
        "ils se moquent de mon odeur",
        "je vais faire une vidéo pour le montrer",
        "c'est une frappe",  # slang for good-looking, not "me frappe"
    ],
    "en": [
        "hello",
        "someone made a fake account of me",
        "people keep insulting me on tiktok",
        "thanks a lot",
        "she went od on me in the comments",  # "od" only with pills or meds
        "good on you",
        "that is so odd",
        "my snaps disappear after 24h",
        "i want to send myself the screenshots",  # not "end myself"
        "i never wake up on time for school",
        "they posted a photo of a bridge with my name",
        "he keeps hitting me up on snap",
        "im not changing myself for them",  # why "hanging myself" is not listed
    ],
    "es": [
        "hola",
        "me acosan en instagram",
        "alguien creó una cuenta falsa con mi nombre",
        "gracias",
        "llegué realmente tarde al colegio",  # Arabizi "ente7ar" is left out for this
        "estoy mejor sin mi ex",
        "me mato de risa con mis amigos",
        "estaba seria cuando lo leí",  # not French "tabasser"
    ],
    "ar": [
        "مرحبا",
        "يتنمرون علي في انستغرام",
        "شكرا جزيلا",
        "أحدهم أنشأ حسابا مزيفا باسمي",
        "اموت فيك",
        "يضحكون على شكل الحبوب في وجهي",
    ],
    "uk": [
        "привіт",
        "мене цькують в інстаграмі",
        "дякую",
        "хтось створив фейковий акаунт",
        "у нього більше підписників ніж у мене",  # "ніж" is also "than"
        "я відчув би себе краще",  # why "вбий себе" is only listed after "іди"
    ],
}

SHIPPED = sorted(p.stem for p in (PROJECT_ROOT / "locales").glob("*.yaml"))
CRISIS_DIR = PROJECT_ROOT / "locales" / "crisis"
DETECTOR = load_crisis_words(CRISIS_DIR)
RULES = load_crisis_words(CRISIS_DIR, model=False)
mentions_crisis = DETECTOR.mentions


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(code, text) for code, texts in table.items() for text in texts]


def test_every_shipped_language_has_a_crisis_list_forms_and_data() -> None:
    assert sorted(p.stem for p in CRISIS_DIR.glob("*.yaml")) == SHIPPED
    assert sorted(p.stem for p in (CRISIS_DIR / "forms").glob("*.txt")) == SHIPPED
    for part in ("dev", "heldout", "heldout2", "heldout3"):
        assert sorted(p.stem for p in (crisis_eval.DATA / part).glob("*.yaml")) == SHIPPED
    assert sorted(MUST_TRIGGER) == SHIPPED
    assert sorted(MUST_NOT_TRIGGER) == SHIPPED


def test_evaluation_set_is_large_and_covers_every_category() -> None:
    """At least 400 crisis and 400 ordinary messages across the languages, every category
    in every language of the dev part."""
    examples = crisis_eval.load("dev") + crisis_eval.load("heldout")
    assert sum(ex.crisis for ex in examples) >= 400
    assert sum(not ex.crisis for ex in examples) >= 400
    dev = crisis_eval.load("dev")
    categories = {*crisis_eval.EXPECTED_TIER, "hyperbole", "help", "news", "harassment"}
    for code in SHIPPED:
        assert {ex.category for ex in dev if ex.lang == code} >= categories, code


# What each part measured, lists and model together (README "Crisis words"): recall and
# false alarms. heldout3 is the newest part written blind; dev is in-sample for both.
MEASURED = {
    "dev": (0.802, 0.050),
    "heldout": (0.840, 0.017),
    "heldout2": (0.655, 0.026),
    "heldout3": (0.786, 0.120),
}
UNDER_TARGET = pytest.mark.xfail(
    strict=True, reason="measured under the targets on every part: README 'Crisis words'"
)


@pytest.mark.parametrize("part", [pytest.param(p, marks=UNDER_TARGET) for p in MEASURED])
def test_detector_meets_its_targets(part: str) -> None:
    """Recall >= 97 % and full emergency answers on <= 5 % of ordinary messages; the
    held-out parts were never used to tune the lists or train the model
    (tests/data/crisis/README.md)."""
    scores = crisis_eval.score(DETECTOR, crisis_eval.load(part))
    assert scores.recall.rate >= crisis_eval.RECALL_TARGET, f"recall {scores.recall}"
    assert scores.false_alarms.rate <= crisis_eval.FALSE_ALARM_TARGET, (
        f"false alarms {scores.false_alarms}"
    )
    assert scores.tier.rate >= 0.9, f"tier {scores.tier}"


@pytest.mark.parametrize("part", list(MEASURED))
def test_detector_does_not_fall_below_what_was_measured(part: str) -> None:
    """Until the targets are met: no change may lose recall or add false alarms against
    what each part measured (half a point of slack for rounding)."""
    recall, false_alarms = MEASURED[part]
    scores = crisis_eval.score(DETECTOR, crisis_eval.load(part))
    assert scores.recall.rate >= recall - 0.005, f"recall {scores.recall}"
    assert scores.false_alarms.rate <= false_alarms + 0.005, f"false alarms {scores.false_alarms}"
    assert scores.tier.rate >= 0.9, f"tier {scores.tier}"


@pytest.mark.parametrize("path", sorted(CRISIS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_listed_phrase_triggers_with_its_tier(path: Path) -> None:
    """A phrase folds to something a message can contain, and brings its own answer."""
    lists = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert len(lists["self"]) >= 20, path.name
    for tier in Tier:
        for phrase in lists.get(tier.value, []):
            hit = DETECTOR.detect(phrase)
            assert hit is not None, phrase
            assert hit.tier is tier or hit.tier is Tier.SELF, (phrase, hit)


@pytest.mark.parametrize(("code", "text"), _cases(MUST_TRIGGER))
def test_crisis_phrasing_triggers(code: str, text: str) -> None:
    assert mentions_crisis(text), f"[{code}] missed: {text!r} → {normalise(text)!r}"


# The statistical model's false alarms on these, as measured (README "Crisis words"): strict,
# so a retrained model that stops raising them has its marker taken off.
MODEL_FALSE_ALARM = pytest.mark.xfail(strict=True, reason="the model's false alarm")
KNOWN_MODEL_FALSE_ALARMS = {"у нього більше підписників ніж у мене"}


@pytest.mark.parametrize(
    ("code", "text"),
    [
        pytest.param(code, text, marks=MODEL_FALSE_ALARM)
        if text in KNOWN_MODEL_FALSE_ALARMS
        else (code, text)
        for code, text in _cases(MUST_NOT_TRIGGER)
    ],
)
def test_ordinary_message_does_not_trigger(code: str, text: str) -> None:
    assert not mentions_crisis(text), f"[{code}] false alarm: {text!r} → {normalise(text)!r}"


@pytest.mark.parametrize(("code", "text"), _cases(MUST_NOT_TRIGGER))
def test_the_lists_alone_raise_no_alarm_on_ordinary_messages(code: str, text: str) -> None:
    assert RULES.detect(text) is None, f"[{code}] false alarm: {text!r}"


@pytest.mark.parametrize(
    ("text", "tier", "locale"),
    [
        ("je veux mourir", Tier.SELF, "fr"),
        ("jvais me pendre ce soir", Tier.SELF, "fr"),
        ("il va me tuer", Tier.OTHERS, "fr"),
        ("il m'attend devant le collège", Tier.OTHERS, "fr"),
        ("il m'a menacée", Tier.OTHERS, "fr"),  # a threat...
        ("mon beau-père va me tuer", Tier.OTHERS, "fr"),
        ("i want to be dead", Tier.SELF, "en"),
        ("he's gonna kill me", Tier.OTHERS, "en"),
        ("he'll post my nudes", Tier.OTHERS, "en"),
        ("me quiero morir", Tier.SELF, "es"),
        ("sabe dónde vivo", Tier.OTHERS, "es"),
        ("بدي انتحر", Tier.SELF, "ar"),
        ("ana bdi mout", Tier.SELF, "ar"),  # Arabizi: Latin letters, Arabic list
        ("رح يقتلني", Tier.OTHERS, "ar"),
        ("хочу вмерти", Tier.SELF, "uk"),
        ("хочу умереть", Tier.SELF, "uk"),  # Russian, answered in Ukrainian
        ("у нього ніж", Tier.OTHERS, "uk"),
        # Both dangers: the answer for one's own life wins (it carries 112 as well).
        ("il va poster mes nudes, je veux mourir", Tier.SELF, "fr"),
        # "suicide" is French and English: the everyday words tell them apart...
        ("je pense au suicide", Tier.SELF, "fr"),
        ("thinking about suicide", Tier.SELF, "en"),
        # ...and when nothing does, the language is left to the chat's, unless the script
        # tells.
        ("suicide", Tier.SELF, None),
        ("суицид suicide", Tier.SELF, "uk"),
    ],
)
def test_hit_tells_the_danger_and_the_language(text: str, tier: Tier, locale: str | None) -> None:
    assert DETECTOR.detect(text) == CrisisHit(tier, locale)


@pytest.mark.parametrize(
    "text",
    [
        "je veux vraiment juste mourir",  # a few words between the wish and the harm
        "je voudrais que je meure",  # an inflected form, from forms/fr.txt
        "mdr je veux mourir",  # laughing before is not a hyperbole after
        "je veux mourir. j'ai trop de devoirs",  # homework, but further than 3 words
        "sucide",  # one letter missing
        "suicdie",  # two letters swapped
        "suiside",  # one letter wrong
        "самогубсво",
    ],
)
def test_intent_inflection_and_typos_are_read(text: str) -> None:
    assert mentions_crisis(text), text


@pytest.mark.parametrize(
    "text",
    [
        "mdr je vais mourir de rire",
        "il m'a menacée de me signaler",  # ...unless a calm word follows
        "ma mère va me tuer",  # who threatens: a hyperbole's usual subject
        "my mom is gonna kill me",
        "je veux un chien et mon grand-père va bientôt mourir",  # wish and harm 6 words apart
        "help me with my homework",
        "au secours j'ai un contrôle de maths",
        "je veux courir",  # one letter off "mourir", which is not typo-tolerant
        "i want to go to the cinema",
    ],
)
def test_hyperbole_and_distance_are_not_an_emergency(text: str) -> None:
    assert not mentions_crisis(text), text


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("j'ai gobé une plaquette entière de somnifères", Tier.SELF),  # pills + swallow
        ("je me suis tailladé l'avant-bras", Tier.SELF),  # wound + body
        ("merci pour tout, je vous aime, prenez soin de vous", Tier.SELF),  # farewell
        ("if i disappeared no one would even notice", Tier.SELF),  # nobody + miss + gone
        ("he wants 50 dollars or he'll show the naked pics", Tier.OTHERS),  # nude + extort
        ("des filles m'attendent à la sortie pour me taper", Tier.OTHERS),
    ],
)
def test_concepts_found_together_bring_their_answer(text: str, tier: Tier) -> None:
    hit = DETECTOR.detect(text)
    assert hit is not None and hit.tier is tier, (text, hit)


@pytest.mark.parametrize(
    "text",
    [
        "j'ai pris toutes mes affaires pour le voyage",  # "toutes" without pills
        "ils ont posté une vidéo de moi en train de danser",  # pictures, nothing intimate
        # pills and "all" too far apart to be one thought
        "j'ai pris tous mes cahiers, les profs ont dit plein de choses et ensuite on a parlé "
        "de la pharmacie du coin qui vend des cachets",
    ],
)
def test_concepts_apart_or_alone_are_not_an_emergency(text: str) -> None:
    assert not mentions_crisis(text), text


def test_inflected_forms_come_from_the_forms_file(tmp_path: Path) -> None:
    """Without ``forms/fr.txt`` only the words as listed match: the lemmatiser's forms are
    what catches "que je meure"."""
    shutil.copytree(CRISIS_DIR, tmp_path / "crisis")
    (tmp_path / "crisis" / "forms" / "fr.txt").unlink()
    bare = load_crisis_words(tmp_path / "crisis", model=False)
    assert bare.mentions("je veux mourir")
    assert not bare.mentions("je voudrais que je meure")


@pytest.mark.parametrize("code", SHIPPED)
def test_forms_files_are_up_to_date(code: str) -> None:
    """Every harm word worth inflecting has its line in forms/<code>.txt, written by
    ``python -m bot.content.crisis_forms`` (run it after changing an intent list)."""
    listed = {normalise(w).strip() for w in harm_words(CRISIS_DIR / f"{code}.yaml")}
    written = set(read_forms(CRISIS_DIR / "forms" / f"{code}.txt"))
    assert written == listed, "run: .venv/bin/python -m bot.content.crisis_forms"


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("انتحـــار", "انتحار"),  # tatweel
        ("أَمُوتُ", "اموت"),  # vowel marks and hamza seat
        ("الحياة", "الحياه"),  # teh marbuta
        ("cуїцид", "суицид"),  # Latin c, Ukrainian ї
        ("вб'ю", "вбю"),  # apostrophe typed or not
        ("ＳＵＩＣＩＤＥ", "suicide"),  # full-width letters
        ("j'ai pris 30 cachets", "j'ai pris 12 cachets"),  # a count, whatever it is
    ],
)
def test_normalise_folds_spelling_variants_together(written: str, folded: str) -> None:
    assert normalise(written) == normalise(folded)


def test_normalise_keeps_scripts_apart_where_it_matters() -> None:
    # Arabic and Cyrillic words survive folding as words, not as separators.
    assert normalise("انا في خطر").split() == ["انا", "في", "خطر"]
    assert len(normalise("хочу вмерти").split()) == 2


def test_fold_cache_stays_bounded() -> None:
    """Characters are remembered once; a message made of thousands of distinct characters
    must not grow the table without end."""
    saved = dict(crisis_text._FOLD)
    try:
        normalise("".join(chr(0x20000 + i) for i in range(crisis_text._CACHE_LIMIT + 1000)))
        assert len(crisis_text._FOLD) <= crisis_text._CACHE_LIMIT
    finally:
        crisis_text._FOLD.clear()
        crisis_text._FOLD.update(saved)


def test_detector_reads_a_long_message_to_the_end() -> None:
    """Speed is measured in ``bench/crisis_speed.py``; here, what a long message holds at
    its very end is still found (the first 10,000 characters are read)."""
    text = ("je suis harcelée sur insta et personne ne me croit مرحبا привіт " * 80)[:5000]
    assert not mentions_crisis(text)
    assert mentions_crisis(text + " j'ai envie de mourir")


CRISIS_MESSAGE = {
    "fr": "j'ai envie de mourir",
    "en": "i wanna kms",
    "es": "me quiero morir 😭",
    "ar": f"بدي انتح{TATWEEL * 2}ر",
    "uk": "хочу вмерти",
}


async def test_crisis_words_mid_flow_get_emergency_numbers_first(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], catalog: Catalog
) -> None:
    """Through the real Telegram path: a teen in each language, one question into a flow,
    types a crisis phrase; the very next message is the answer to thoughts of suicide
    (3114, 112, 15), in their language, with the numbers to copy, and a button takes them
    back to where they were."""
    assert sorted(CRISIS_MESSAGE) == SHIPPED
    texts = catalog.locales
    async with relais_in_process(api, dialogue_factory()):
        for user_id, code in enumerate(SHIPPED, start=3001):
            teen = api.user(user_id, language_code=code)
            welcome = await teen.send("/start")
            assert welcome[0].text.startswith(texts.text(code, "welcome").split("👋")[0])
            await teen.press(texts.text(code, "start.who.me"))
            question = teen.last_message
            assert question.text == texts.text(code, "victim.danger.question"), code

            replies = await teen.send(CRISIS_MESSAGE[code])
            first = replies[0].text
            for number in ("3114", "112", "15"):
                # As the locale writes a number (Arabic keeps it left to right with a mark).
                phone = texts.text(code, "resource.phone", phone=number)
                assert phone in first, f"[{code}] {number} missing from {first!r}"
            assert first.startswith(texts.text(code, "crisis.self")), code
            copy = [texts.text(code, "crisis.copy", number=n) for n in ("3114", "112")]
            assert teen.buttons() == [copy, [texts.text(code, "button.resume")]], code

            back = await teen.press(texts.text(code, "button.resume"))
            assert back[-1].text == question.text, code


# The statistical model (bot.content.crisis_model, trained by bench/crisis_model_train.py)


def test_model_reproduces_the_probabilities_training_gave() -> None:
    """model.json carries messages with the probability scikit-learn gave them (one longer
    than a window); the run-time scorer must give the same, or the weights are not the
    ones trained."""
    model = load_model(CRISIS_DIR / "model.json")
    assert len(model.checks) >= 5
    assert any(len(normalise(c.text).split()) > WINDOW for c in model.checks)
    probabilities = [c.probability for c in model.checks]
    assert min(probabilities) < model.threshold < max(probabilities)
    for check in model.checks:
        got = model.read(normalise(check.text))
        assert got.probability == pytest.approx(check.probability, abs=1e-4), check.text
        assert got.others == pytest.approx(check.others, abs=1e-4), check.text


def test_model_answers_what_the_lists_miss_as_danger_to_oneself() -> None:
    text = "je vois pas pourquoi je me leve encore le matin"
    assert RULES.detect(text) is None
    assert DETECTOR.detect(text) == CrisisHit(Tier.SELF, "fr")


def test_model_tells_danger_from_someone_the_lists_miss() -> None:
    """The model's second head: danger from someone gets 17 and 112 first."""
    text = "un mec sonne à ma porte, je suis toute seule"
    assert RULES.detect(text) is None
    assert DETECTOR.detect(text) == CrisisHit(Tier.OTHERS, "fr")


def test_model_leaves_the_tier_and_locale_to_the_lists_when_they_match() -> None:
    assert DETECTOR.detect("he will send my pics to everyone") == RULES.detect(
        "he will send my pics to everyone"
    )


def _model_file_as(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    shutil.copytree(CRISIS_DIR, tmp_path / "crisis")
    path = tmp_path / "crisis" / "model.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return tmp_path / "crisis"


def _zero_weights(doc: dict[str, Any]) -> None:
    doc["weights"] = {gram: [0.0, 0.0] for gram in doc["weights"]}


def _zero_others_head(doc: dict[str, Any]) -> None:
    doc["weights"] = {gram: [pair[0], 0.0] for gram, pair in doc["weights"].items()}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_zero_weights, "crisis head gives"),
        (_zero_others_head, "others head gives"),
        (lambda doc: doc.update(threshold=1.5), "'threshold'"),
        (lambda doc: doc.pop("others_threshold"), "'others_threshold'"),
        (lambda doc: doc.update(bias=1.0), "'bias'"),
        (lambda doc: doc.pop("checks"), "'checks'"),
        (lambda doc: doc.update(format=99), "format"),
    ],
    ids=[
        "zero-weights",
        "zero-others",
        "threshold",
        "others-threshold",
        "bias",
        "no-checks",
        "format",
    ],
)
def test_broken_model_file_is_refused_naming_it(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    directory = _model_file_as(tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        load_crisis_words(directory)
    (problem,) = caught.value.problems
    assert problem.file.endswith("model.json") and reason in problem.message, problem


@pytest.mark.parametrize("damage", ["missing", "not-json"])
def test_model_file_missing_or_unreadable_is_refused(tmp_path: Path, damage: str) -> None:
    shutil.copytree(CRISIS_DIR, tmp_path / "crisis")
    path = tmp_path / "crisis" / "model.json"
    if damage == "missing":
        path.unlink()
    else:
        path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_crisis_words(tmp_path / "crisis")
    assert [p.file for p in caught.value.problems] == [display_path(path)]
