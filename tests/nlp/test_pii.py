"""PII redaction: typed placeholders, checksums, hard negatives, spans into the original text."""

from __future__ import annotations

import logging
import socket

import pytest

from nlp import pii
from nlp.pii import CARD_LAST_FOUR, Finding, find_pii, redact, redact_text

# Published test numbers and example IBANs (Visa, Mastercard and Amex test cards).
VISA = "4111 1111 1111 1111"
MASTERCARD = "5555-5555-5555-4444"
AMEX = "3782 822463 10005"
IBAN_GB = "GB82 WEST 1234 5698 7654 32"
IBAN_DE = "DE89370400440532013000"


def iban(country: str, bban: str) -> str:
    """An IBAN with its mod-97 check digits computed."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        (f"my card is {VISA}, please block it", VISA, "CARD"),
        (f"card number: {MASTERCARD}", MASTERCARD, "CARD"),
        (f"amex {AMEX} was declined", AMEX, "CARD"),
        ("new mastercard 2223000048400011 not working", "2223000048400011", "CARD"),
        (
            "write to Jane.Doe+bank@Mail.Example.co.uk today",
            "Jane.Doe+bank@Mail.Example.co.uk",
            "EMAIL",
        ),
        ("call me on 07911 123456 after five", "07911 123456", "PHONE"),
        ("office: +44 20 7946 0958", "+44 20 7946 0958", "PHONE"),
        ("my US number is (415) 555-2671", "(415) 555-2671", "PHONE"),
        ("in Paris: +33 1 42 68 53 00", "+33 1 42 68 53 00", "PHONE"),
        (f"refund to {IBAN_GB} please", IBAN_GB, "IBAN"),
        (f"IBAN {IBAN_DE}.", IBAN_DE, "IBAN"),
        ("my NI number is AB 12 34 56 C", "AB 12 34 56 C", "NI_NUMBER"),
        ("sort code 20-45-77 please", "20-45-77", "SORT_CODE"),
        ("account number 31926819", "31926819", "ACCOUNT_NUMBER"),
        ("login from 81.2.69.160 was not me", "81.2.69.160", "IP_ADDRESS"),
        (
            "login from 2001:db8:85a3::8a2e:370:7334 was not me",
            "2001:db8:85a3::8a2e:370:7334",
            "IP_ADDRESS",
        ),
        ("https://bob:s3cret@example.com/files", "bob:s3cret", "CREDENTIALS"),
    ],
)
def test_each_kind_gets_its_placeholder(text: str, value: str, kind: str) -> None:
    redaction = redact(text, keep_card_last_four=False)
    start = text.index(value)
    assert redaction.findings == [Finding(kind, start, start + len(value))]
    assert redaction.text == text.replace(value, pii.PLACEHOLDERS[kind])


def test_card_keeps_its_last_four_only_when_asked() -> None:
    text = f"lost {VISA} and {AMEX}"
    kept = redact(text, keep_card_last_four=True).text
    assert kept == "lost [CARD ending 1111] and [CARD ending 0005]"
    assert CARD_LAST_FOUR.findall(kept) == ["1111", "0005"]
    dropped = redact(text, keep_card_last_four=False).text
    assert dropped == "lost [CARD] and [CARD]"
    assert not any(char.isdigit() for char in dropped)


def test_card_followed_by_expiry_and_cvv_is_found() -> None:
    text = f"{VISA} 123 exp 12/26"
    assert redact(text, keep_card_last_four=False).text == "[CARD] 123 exp 12/26"


@pytest.mark.parametrize(
    "text",
    [
        "is 4111 1111 1111 1112 a valid card?",  # fails Luhn
        "card number 5555555555554445 was rejected",  # fails Luhn
        "my order number is 2125551234",  # a valid US phone number, but labelled as an order
        "Order #10045872 hasn't arrived",
        "invoice 2024-000123, ref REF-7731-AB",
        "tracking 9400 1000 0000 0000 0000 00 and AB123456789GB",
        "card ending 1234 was declined",
        "the last four digits are 0005",
        "I paid £1,234.56 on 12/03/2024 at 14:30",
        "transaction TXN-20240312-8842 on 2024-03-12",
        "I live at SW1A 1AA",
        "app version 5.12.3.1 crashes",
        "payment reference 8800123456789013",
        "my customer number is 20394857",
        "see you on 12-03-24, my daughter was born 03.04.2019",
    ],
)
def test_hard_negatives_are_kept(text: str) -> None:
    assert find_pii(text) == []
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    ["where is my card?", "I want to speak to a human", "Can I have 2 cards on 1 account?", ""],
)
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    assert redact(text) == pii.Redaction(text, [])


def test_a_valid_iban_wins_over_the_card_inside_it() -> None:
    text = f"send it to {iban('DE', '411111111111111100')}"
    assert [f.kind for f in find_pii(text)] == ["IBAN"]


def test_a_mistyped_iban_hides_no_card() -> None:
    valid = iban("DE", "411111111111111100")
    mistyped = valid[:2] + f"{(int(valid[2:4]) + 1) % 97 + 2:02d}" + valid[4:]
    assert find_pii(f"send it to {mistyped}") == []


def test_an_international_phone_is_not_read_as_a_card() -> None:
    # The 13 digits after the + pass Luhn.
    text = "whatsapp +4915134005391"
    assert find_pii(text) == [Finding("PHONE", 9, 23)]


def test_credentials_win_over_the_email_they_look_like() -> None:
    text = "try ftp://tom5:hunter22@files.example.org/x"
    assert redact(text).text == "try ftp://[CREDENTIALS]@files.example.org/x"


def test_spans_point_at_the_original_text() -> None:
    text = (
        f"Jane (jane.doe@gmail.com, 07911 123456) paid with {VISA}; "
        f"refund to {IBAN_GB} or call +1 415-555-2671"
    )
    redaction = redact(text)
    values = [text[f.start : f.end] for f in redaction.findings]
    assert values == ["jane.doe@gmail.com", "07911 123456", VISA, IBAN_GB, "+1 415-555-2671"]
    assert [f.kind for f in redaction.findings] == ["EMAIL", "PHONE", "CARD", "IBAN", "PHONE"]
    assert all(
        a.end <= b.start for a, b in zip(redaction.findings, redaction.findings[1:], strict=False)
    )
    assert redact(redaction.text).text == redaction.text  # placeholders are not personal data


def test_no_network_and_no_raw_text_in_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nlp.pii tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pii._recognizers.cache_clear()
    caplog.set_level(logging.DEBUG)
    text = f"me: amelia.khan@outlook.com, {MASTERCARD}, GB82 WEST 1234 5698 7654 31"
    assert redact(text).text == "me: [EMAIL], [CARD ending 4444], GB82 WEST 1234 5698 7654 31"
    for secret in ("amelia.khan", "5555", "WEST"):
        assert secret not in caplog.text
