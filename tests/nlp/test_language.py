"""Language identification (langid, model shipped in the package) on short chat messages."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from nlp.language import (
    ENGLISH,
    UNDETERMINED,
    gibberish,
    language_detector,
    pronounceable,
    script_language,
    words_only,
)

# Hand-written for the project: what a bank's customers write in a chat, five per language.
LINES = {
    "es": [
        "he perdido mi tarjeta y no sé qué hacer",
        "¿dónde está mi tarjeta nueva?",
        "quiero hablar con una persona, por favor",
        "mi transferencia no ha llegado todavía",
        "no puedo entrar en la aplicación del banco",
    ],
    "fr": [
        "j'ai perdu ma carte bancaire hier soir",
        "mon virement n'est toujours pas arrivé",
        "je voudrais parler à un conseiller",
        "pourquoi ma carte est-elle refusée au magasin ?",
        "comment changer mon code secret",
    ],
    "de": [
        "ich habe meine Karte verloren",
        "wann kommt meine neue Karte an?",
        "ich möchte mit einem Mitarbeiter sprechen",
        "meine Überweisung ist noch nicht angekommen",
        "warum wurde mir eine Gebühr berechnet?",
    ],
    "it": [
        "ho perso la mia carta di credito",
        "quando arriva la nuova carta?",
        "vorrei parlare con un operatore",
        "il mio bonifico non è ancora arrivato",
        "perché il pagamento è stato rifiutato?",
    ],
    "pt": [
        "perdi o meu cartão ontem à noite",
        "quando é que chega o cartão novo?",
        "quero falar com uma pessoa, por favor",
        "a minha transferência ainda não chegou",
        "porque é que o pagamento foi recusado?",
    ],
    "zh": [
        "我的银行卡丢了",
        "我的新卡什么时候到？",
        "我想和人工客服说话",
        "转账还没有到账",
        "为什么我的付款被拒绝了？",
    ],
    "ru": [
        "я потерял свою карту",
        "когда придёт моя новая карта?",
        "я хочу поговорить с оператором",
        "мой перевод ещё не пришёл",
        "почему мой платёж отклонён?",
    ],
}
ENGLISH_LINES = [
    "I lost my card yesterday",
    "where is my new card?",
    "can I talk to a person please",
    "my transfer hasn't arrived yet",
    "why was my payment declined?",
    "this is a bit annoying",
    "this is taking long",
]
ACCURACY = 0.9
"""Over all the lines; measured 33/35 with langid 1.1.6 restricted to nlp.language.LANGUAGES."""
LANGUAGE_ACCURACY = 0.8
"""Per language: a short question ("quando arriva la nuova carta?") can still read as English."""


def _nlu_examples() -> list[str]:
    examples = []
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text()).get("nlu") or []:
            if item.get("intent") in (None, "other_language"):
                continue
            for line in item["examples"].splitlines():
                if line.startswith("- "):
                    examples.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:]))
    return examples


def _correct(language: str) -> int:
    detected = language_detector().predict(LINES[language])
    return sum(1 for d in detected if d.language == language and d.foreign)


@pytest.mark.parametrize("language", sorted(LINES))
def test_accuracy_per_language_on_hand_written_lines(language: str) -> None:
    assert _correct(language) / len(LINES[language]) >= LANGUAGE_ACCURACY


def test_accuracy_over_all_hand_written_lines() -> None:
    correct = sum(_correct(language) for language in LINES)
    assert correct / sum(len(lines) for lines in LINES.values()) >= ACCURACY


def test_english_chat_lines_are_english() -> None:
    assert not any(d.foreign for d in language_detector().predict(ENGLISH_LINES))


def test_the_english_training_data_is_rarely_taken_for_another_language() -> None:
    """Short English can look Spanish or Italian to langid ("card lost abroad"): that is why a
    Latin-script guess only counts for a message the intent model could not read."""
    examples = _nlu_examples()
    foreign = [d for d in language_detector().predict(examples) if d.foreign]
    assert len(examples) > 500
    assert len(foreign) / len(examples) < 0.02


def test_a_non_latin_script_is_foreign_even_in_a_language_without_a_reply() -> None:
    greek = language_detector().detect("Καλημέρα, έχασα την κάρτα μου")
    assert greek.foreign and not greek.latin and greek.language == UNDETERMINED


@pytest.mark.parametrize("text", ["1234", "👍", "", "!!!", "hola", "ok"])
def test_digits_emoji_and_single_short_words_stay_english(text: str) -> None:
    detected = language_detector().detect(text)
    assert detected.language == ENGLISH and not detected.foreign


def test_the_model_loads_once() -> None:
    assert language_detector() is language_detector()


@pytest.mark.parametrize(
    "text",
    [
        "😤 seriously?",
        "seriously??? 😤😤😤",
        "🙄 really?",
        "😡 come on",
        "wtf 😠",
        "lol 😂",
        "ok 👍 thanks",
        "hmm 🤔",
        "👋 hi there",
        "where is my card 💳",
        "🔥🔥 great app",
    ],
)
def test_emoji_beside_short_english_never_make_it_foreign(text: str) -> None:
    """langid reads UTF-8 bytes, and an emoji's bytes looked Korean to it: "😤 seriously?"
    was answered in Korean. It now reads only the words, and only for the Latin languages."""
    detected = language_detector().detect(text)
    assert detected.language == ENGLISH and not detected.foreign


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("카드를 잃어버렸어요 😭", "ko"),
        ("我的卡丢了 😡", "zh"),
        ("カードをなくしました 🙏", "ja"),
        ("紛失したカード", "ja"),
        ("я потерял карту 😢", "ru"),
        ("فقدت بطاقتي", "ar"),
        ("😤😤 pourquoi ma carte ne marche pas", "fr"),
        ("😡 esto es ridículo, nadie me ayuda", "es"),
    ],
)
def test_the_script_decides_and_emoji_do_not_change_the_language(text: str, language: str) -> None:
    detected = language_detector().detect(text)
    assert detected.language == language and detected.foreign


def test_korean_needs_hangul_and_chinese_han_characters() -> None:
    """Not any byte pattern langid happens to like: the letters' script names the language."""
    assert script_language("你好") == "zh"
    assert script_language("こんにちは") == "ja"
    assert script_language("안녕하세요") == "ko"
    assert script_language("Γειά σου") == UNDETERMINED


def test_langid_reads_only_the_words() -> None:
    assert words_only("😤 seriously?!") == "seriously?!"
    assert words_only("card 1234 💳 lost") == "card lost"


@pytest.mark.parametrize(
    "text", ["qwpeoir zxmcnv", "lkjhg poiuy", "asdf jkl", "asdfghjkl", "zxcvb!!"]
)
def test_keyboard_mashing_is_gibberish(text: str) -> None:
    """langid names a language for anything; these have no word of any language we answer in."""
    assert gibberish(text)


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "danke",
        "merci beaucoup",
        "bonjour",
        "ciao",
        "obrigado",
        "dank je wel",
        "teşekkürler",
        "dzień dobry",
        "estoy harto de este banco",
        "c'est nul, ça ne marche jamais",
        "card lost abroad",
        "blorp the wizzle",
        "我的银行卡丢了",
        "👍",
        "?",
        "",
    ],
)
def test_words_of_a_language_are_not_gibberish(text: str) -> None:
    """Greetings a wordlist lacks are still pronounceable; another script is never gibberish."""
    assert not gibberish(text)


def _other_language_examples() -> list[str]:
    path = PROJECT_ROOT / "data" / "nlu" / "general.yml"
    [item] = [
        i for i in yaml.safe_load(path.read_text())["nlu"] if i.get("intent") == "other_language"
    ]
    return [line[2:] for line in item["examples"].splitlines() if line.startswith("- ")]


def test_foreign_lines_and_english_training_sentences_are_never_gibberish() -> None:
    """Only a one-word chat abbreviation ("thx", "n") looks like gibberish: the classifier
    reads those itself, and gibberish only undoes a reading of another language."""
    lines = (
        [line for line in _nlu_examples() if " " in line.strip()]
        + _other_language_examples()
        + [line for lines in LINES.values() for line in lines]
    )
    assert [line for line in lines if gibberish(line)] == []
    assert [line for line in _nlu_examples() if gibberish(line)] == ["thx", "n"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hola", True),
        ("strengths", True),
        ("zxmcnv", False),
        ("jkl", False),
        ("asdfghjkl", False),
    ],
)
def test_a_word_without_a_vowel_or_with_six_consonants_in_a_row_is_unpronounceable(
    word: str, expected: bool
) -> None:
    assert pronounceable(word) is expected
