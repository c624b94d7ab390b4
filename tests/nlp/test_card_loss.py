"""The lost-card lexicon: a card word and a loss word of one language, accents or not."""

from __future__ import annotations

import pytest

from nlp.card_loss import LEXICON, fold, reports_lost_card
from nlp.language import ENGLISH, LANGUAGES


@pytest.mark.parametrize(
    "text",
    [
        "He perdido mi tarjeta",
        "Perdí mi tarjeta, la 5991, bloquéala por favor",
        "PERDI MI TARJETA",
        "me robaron la tarjeta de crédito",
        "J'ai perdu ma carte bancaire",
        "on m'a volé ma carte",
        "Ich habe meine Karte verloren",
        "Meine Kreditkarte wurde gestohlen, bitte sperren",
        "Ho perso la mia carta",
        "mi hanno rubato il bancomat",
        "Perdi o meu cartão",
        "o meu cartão foi roubado",
        "Ik ben mijn bankpas kwijt",
        "Zgubiłem kartę",
        "Kartımı kaybettim",
        "Я потерял карту",
        "فقدت بطاقتي",
        "我的银行卡丢了",
        "こんにちは、カードをなくしました",
        "카드를 잃어버렸어요",
    ],
)
def test_a_lost_stolen_or_blocked_card_in_another_language(text: str) -> None:
    assert reports_lost_card(text)


@pytest.mark.parametrize(
    "text",
    [
        "Perdón, mi tarjeta no llega",
        "¿Cuál es mi saldo?",
        "bonjour, ma carte ne fonctionne plus",
        "Wo ist meine neue Karte",
        "vorrei parlare con una persona della carta",
        "perdi a senha",
        "我想和人工客服说话",
        "he perdido el tren",
    ],
)
def test_a_card_or_a_loss_alone_is_not_a_lost_card(text: str) -> None:
    assert not reports_lost_card(text)


def test_every_language_the_bot_answers_in_has_words() -> None:
    assert set(LEXICON) == set(LANGUAGES) - {ENGLISH}


def test_folding_drops_case_and_accents_but_keeps_hangul_whole() -> None:
    assert fold("PERDÍ Bloquéala") == "perdi bloqueala"
    assert fold("카드") == "카드"
