"""Crisis words in every shipped language: what teens really type must reach the emergency
numbers, ordinary messages must not, and the detector stays cheap enough to run on every
message.

The phrasings below are written the way they arrive: no accents, capitals, stretched
letters, digits for letters, spaced-out letters, emoji, invisible characters, Arabic vowel
marks and tatweel, Cyrillic typed half on a Latin keyboard.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content import crisis
from bot.content.catalog import Catalog
from bot.content.crisis import load_crisis_words, normalise
from bot.dialogue.service import Dialogue
from tests.fakebotapi import FakeBotApi
from tests.harness import relais

ZWSP, ZWNJ, ZWJ, SHY = "\u200b", "\u200c", "\u200d", "\u00ad"
TATWEEL = "\u0640"

MUST_TRIGGER: dict[str, list[str]] = {
    "fr": [
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
        "m0urir",
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
mentions_crisis = load_crisis_words(CRISIS_DIR).mentions


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(code, text) for code, texts in table.items() for text in texts]


def test_every_shipped_language_has_a_crisis_list_and_tests() -> None:
    crisis_lists = sorted(p.stem for p in CRISIS_DIR.glob("*.yaml"))
    assert crisis_lists == SHIPPED
    assert sorted(MUST_TRIGGER) == SHIPPED
    assert sorted(MUST_NOT_TRIGGER) == SHIPPED
    for code in SHIPPED:
        assert len(MUST_TRIGGER[code]) >= 12, code


@pytest.mark.parametrize("path", sorted(CRISIS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_phrase_lists_are_sane(path: Path) -> None:
    """A phrase that folds to nothing would match every message; one that folds to a
    single letter would match almost every one."""
    phrases = yaml.safe_load(path.read_text(encoding="utf-8"))["phrases"]
    assert 20 <= len(phrases) <= 100, f"{path.name}: {len(phrases)} phrases"
    for phrase in phrases:
        assert isinstance(phrase, str), phrase
        assert len(normalise(phrase).replace(" ", "")) >= 3, phrase
        assert mentions_crisis(phrase), phrase


@pytest.mark.parametrize(("code", "text"), _cases(MUST_TRIGGER))
def test_crisis_phrasing_triggers(code: str, text: str) -> None:
    assert mentions_crisis(text), f"[{code}] missed: {text!r} → {normalise(text)!r}"


@pytest.mark.parametrize(("code", "text"), _cases(MUST_NOT_TRIGGER))
def test_ordinary_message_does_not_trigger(code: str, text: str) -> None:
    assert not mentions_crisis(text), f"[{code}] false alarm: {text!r} → {normalise(text)!r}"


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("انتحـــار", "انتحار"),  # tatweel
        ("أَمُوتُ", "اموت"),  # vowel marks and hamza seat
        ("الحياة", "الحياه"),  # teh marbuta
        ("cуїцид", "суицид"),  # Latin c, Ukrainian ї
        ("вб'ю", "вбю"),  # apostrophe typed or not
        ("ＳＵＩＣＩＤＥ", "suicide"),  # full-width letters
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
    saved = dict(crisis._FOLD)
    try:
        normalise("".join(chr(0x20000 + i) for i in range(crisis._CACHE_LIMIT + 1000)))
        assert len(crisis._FOLD) <= crisis._CACHE_LIMIT
    finally:
        crisis._FOLD.clear()
        crisis._FOLD.update(saved)


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
    types a crisis phrase; the very next message carries 112, 3114 and 119, in their
    language, and a button takes them back to where they were."""
    assert sorted(CRISIS_MESSAGE) == SHIPPED
    texts = catalog.locales
    async with relais(api, dialogue_factory()):
        for user_id, code in enumerate(SHIPPED, start=3001):
            teen = api.user(user_id, language_code=code)
            welcome = await teen.send("/start")
            assert welcome[0].text.startswith(texts.text(code, "welcome").split("👋")[0])
            await teen.press(texts.text(code, "start.who.me"))
            question = teen.last_message
            assert question.text == texts.text(code, "victim.danger.question"), code

            replies = await teen.send(CRISIS_MESSAGE[code])
            first = replies[0].text
            for number in ("112", "3114", "119"):
                assert number in first, f"[{code}] {number} missing from {first!r}"
            assert first.startswith(texts.text(code, "emergency.text")), code
            assert teen.buttons() == [[texts.text(code, "button.resume")]], code

            back = await teen.press(texts.text(code, "button.resume"))
            assert back[-1].text == question.text, code
