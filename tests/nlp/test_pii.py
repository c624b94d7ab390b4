"""PII redaction: typed placeholders, checksums, hard negatives, spans into the original text."""

from __future__ import annotations

import logging
import socket

import pytest

from nlp import pii
from nlp.pii import CARD_LAST_FOUR, Finding, find_pii, redact, redact_text
from nlp.pii.identifiers import recognizers

# Published test numbers and example IBANs (Visa, Mastercard and Amex test cards).
VISA = "4111 1111 1111 1111"
MASTERCARD = "5555-5555-5555-4444"
AMEX = "3782 822463 10005"
IBAN_GB = "GB82 WEST 1234 5698 7654 32"
IBAN_DE = "DE89370400440532013000"


def alone(kind: str, text: str, value: str) -> list[Finding]:
    """The findings expected when `value` is the only personal data in `text`."""
    start = text.index(value)
    return [Finding(kind, start, start + len(value))]


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
        ("the cvv is 123", "123", "CVV"),
        ("my PIN is 4921, please reset it", "4921", "PIN"),
        ("expiry date: 08/27", "08/27", "EXPIRY"),
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
    assert redact(text, keep_card_last_four=False).text == "[CARD] [CVV] exp [EXPIRY]"


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
        "tarjeta terminada en 4821, carte se terminant par 4821, Endziffern 4821",
        "the pin for my card ending 4821 is blocked",
        "my pin stopped working in 2023 and was blocked after 3 tries",
        "the card expired on 12/03/2024",
        "paid 12 345,67 € and 1.234,56 EUR, up 12.5% at a rate of 1.1634",
        "invoice INV-2024-000123 and REF-2125551234",
        "order 112-1234567-1234567 and 1 234 567 890 euros",
        "windows 10.0.19045.3570 and build 192.168.100.100",
        "between 2019 and 2024, call me on 12 03 2024 at 10:30",
        "card 4111 1111 1111 1112 fails Luhn, card 4111 11111111 1112 too",
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
    recognizers.cache_clear()
    caplog.set_level(logging.DEBUG)
    text = f"me: amelia.khan@outlook.com, {MASTERCARD}, GB82 WEST 1234 5698 7654 31"
    assert redact(text).text == "me: [EMAIL], [CARD ending 4444], GB82 WEST 1234 5698 7654 31"
    for secret in ("amelia.khan", "5555", "WEST"):
        assert secret not in caplog.text


# Every space a keyboard, a phone or a copy from a PDF puts between digit groups.
UNUSUAL_SEPARATORS = {
    "no-break space": "\u00a0",
    "thin space": "\u2009",
    "narrow no-break space": "\u202f",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "soft hyphen": "\u00ad",
}


@pytest.mark.parametrize("separator", UNUSUAL_SEPARATORS.values(), ids=UNUSUAL_SEPARATORS.keys())
def test_unusual_spaces_hide_no_card_or_phone(separator: str) -> None:
    card = VISA.replace(" ", separator)
    phone = "020 7946 0958".replace(" ", separator)
    text = f"card {card}, call {phone}."
    redaction = redact(text)
    assert redaction.text == "card [CARD ending 1111], call [PHONE]."
    assert [text[f.start : f.end] for f in redaction.findings] == [card, phone]


def test_full_width_digits_are_read_as_digits() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in VISA)
    text = f"card {full_width} please"
    assert find_pii(text) == alone("CARD", text, full_width)
    assert redact_text(text) == "card [CARD ending 1111] please"
    assert redact_text("call \uff10\uff17\uff17\uff10\uff10 900123") == "call [PHONE]"


def test_invisible_characters_at_the_edges_stay_outside_the_span() -> None:
    text = f"card\u200b {VISA}\u200b, thanks"
    assert find_pii(text) == alone("CARD", text, VISA)


@pytest.mark.parametrize(
    "phone",
    [
        "+44 7700 900123",  # Ofcom's drama range: never allocated, still a phone number
        "07700 900123",
        "+44 (0)7700 900123",
        "07700-900-123",
        "07700_900_123",
        "(555) 010-0199",  # NANP 555 area code
        "+1 555 010 0199",
        "1-555-010-0199",
        "555.010.0199",
        "0049 151 0000 0000",
        "+49 151 0000 0000",
        "+91 00000 00000",
        "0207 946 0000",
        "06.00.00.00.00",
    ],
)
def test_phone_shaped_numbers_are_phones_even_when_unallocated(phone: str) -> None:
    text = f"it is {phone}, thanks"
    assert find_pii(text) == alone("PHONE", text, phone)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("my mobile 07000000000", "07000000000"),
        ("tel 555 0100", "555 0100"),
        ("contact: 5550100199", "5550100199"),
        ("mi móvil es 612 34 56 78", "612 34 56 78"),
        ("appelez-moi au 06 00 00 00 00", "06 00 00 00 00"),
        ("Telefon: 030 000000", "030 000000"),
        ("call 07700 900123 2 days ago", "07700 900123"),
        ("call me (07700 900123)", "07700 900123"),
    ],
)
def test_shorter_numbers_are_phones_after_a_phone_word(text: str, phone: str) -> None:
    assert find_pii(text) == alone("PHONE", text, phone)


@pytest.mark.parametrize(
    "card",
    [
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111 - 1111 - 1111 - 1111",
        "4111  1111  1111  1111",
        "2200 0000 0000 0004",  # Mir
        "6759 6498 2643 8453",  # Maestro
    ],
)
def test_cards_with_any_one_separator(card: str) -> None:
    text = f"pay with {card} today"
    assert find_pii(text) == alone("CARD", text, card)


def test_an_unusual_grouping_is_a_card_only_after_a_card_word() -> None:
    assert [f.kind for f in find_pii("card 4111 11111111 1111")] == ["CARD"]
    assert find_pii("ref 4111 11111111 1111") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"card {VISA} 08/27 123", "card [CARD] [EXPIRY] [CVV]"),
        (f"{VISA}, 08/27, 123", "[CARD], [EXPIRY], [CVV]"),
        (f"{AMEX} exp 8-27 cvv 1234", "[CARD] exp [EXPIRY] cvv [CVV]"),
        (f"{VISA} valid thru 08/2027", "[CARD] valid thru [EXPIRY]"),
        ("CVV: 1234 and expires 08/2027", "CVV: [CVV] and expires [EXPIRY]"),
        ("the 3-digit code on the back is 987", "the 3-digit code on the back is [CVV]"),
        ("security code is 321", "security code is [CVV]"),
        ("the code on the back is 123", "the code on the back is [CVV]"),
        ("PIN: 123456", "PIN: [PIN]"),
        ("new pin number 0000 please", "new pin number [PIN] please"),
        ("caduca 09/28, código de seguridad 456", "caduca [EXPIRY], código de seguridad [CVV]"),
        ("mi PIN es 4321", "mi PIN es [PIN]"),
        (
            "date d'expiration 10/29, cryptogramme 789",
            "date d'expiration [EXPIRY], cryptogramme [CVV]",
        ),
        ("mon code confidentiel est 9876", "mon code confidentiel est [PIN]"),
        ("gültig bis 11-30, Prüfnummer 654", "gültig bis [EXPIRY], Prüfnummer [CVV]"),
        ("meine Geheimzahl ist 1357", "meine Geheimzahl ist [PIN]"),
    ],
)
def test_card_details_after_a_card_or_their_words(text: str, expected: str) -> None:
    assert redact(text, keep_card_last_four=False).text == expected


@pytest.mark.parametrize(
    "text",
    [
        f"{VISA} charged 250 GBP",
        f"card {VISA} 2 days ago",
        f"{VISA} on 12/03",
    ],
)
def test_amounts_counts_and_dates_after_a_card_are_kept(text: str) -> None:
    assert [f.kind for f in find_pii(text)] == ["CARD"]


@pytest.mark.parametrize(
    "written",
    [
        "gb82west12345698765432",
        "gb82 west 1234 5698 7654 32",
        "Gb82 West 1234 5698 7654 32",
        "de89370400440532013000",
        "De89 3704 0044 0532 0130 00",
        "G B 8 2 W E S T 1 2 3 4 5 6 9 8 7 6 5 4 3 2",
        "GB82_WEST_1234_5698_7654_32",
        "GB82-WEST-1234-5698-7654-32",
    ],
)
def test_ibans_in_any_letter_case_spelt_out_or_joined_with_underscores(written: str) -> None:
    text = f"refund to {written} please"
    assert find_pii(text) == alone("IBAN", text, written)


def test_lower_case_ibans_next_to_each_other() -> None:
    first, second = IBAN_DE.lower(), iban("GB", "WEST12345698765432").lower()
    text = f"both {first} and {second} are mine"
    assert [text[f.start : f.end] for f in find_pii(text)] == [first, second]


def test_a_word_before_a_number_is_not_a_lower_case_iban() -> None:
    # "de" and "es" are IBAN countries and words; a lower-case one needs its check digits glued.
    bban = iban("DE", "370400440532013000")[2:]
    assert find_pii(f"número de {bban[:2]} {bban[2:]}") == []


# A Luhn-valid Visa number, typed every way a review found stored in clear.
LOOSE_VISA = "4539 1488 0343 6467"


def in_script(text: str, zero: int) -> str:
    """`text` with its digits in the script whose zero is the code point `zero`."""
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


@pytest.mark.parametrize(
    "card",
    [
        "4539,1488,0343,6467",
        "4539_1488_0343_6467",
        "4539\u20141488\u20140343\u20146467",  # em dash
        "4539\u20131488\u20130343\u20136467",  # en dash
        "4539 | 1488 | 0343 | 6467",
        "45391488 03436467",  # 8 + 8, no card word
        "4539 14 88 0343 6467",
        "4539*1488*0343*6467",
        "4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7",
        in_script(LOOSE_VISA, 0x0660),
        in_script(LOOSE_VISA, 0x0966),
    ],
    ids=[
        "commas",
        "underscores",
        "em dashes",
        "en dashes",
        "pipes",
        "eight and eight",
        "odd groups",
        "asterisks",
        "one digit at a time",
        "arabic-indic digits",
        "devanagari digits",
    ],
)
def test_a_luhn_valid_card_is_a_card_however_it_is_separated(card: str) -> None:
    text = f"here it is {card} thanks"
    assert find_pii(text) == alone("CARD", text, card)
    assert redact_text(text) == "here it is [CARD ending 6467] thanks"


def test_an_oddly_grouped_number_after_a_reference_label_stays() -> None:
    assert find_pii("payment ref 4539 14 88 0343 6467") == []
    assert [f.kind for f in find_pii("card 4539 14 88 0343 6467")] == ["CARD"]


def test_a_card_after_other_numbers_in_the_same_run_is_found() -> None:
    text = f"call 020 7946 0958, {LOOSE_VISA}"
    assert [f.kind for f in find_pii(text)] == ["PHONE", "CARD"]
    assert redact_text(f"{VISA} {MASTERCARD.replace('-', ' ')}") == (
        "[CARD ending 1111] [CARD ending 4444]"
    )
