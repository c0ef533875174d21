"""The console link marker in a stored message and its swap for a token at send time."""

from __future__ import annotations

from monitord.notify.links import fill, has_marks, link_for


def test_a_marker_becomes_a_fresh_link_or_the_plain_ticket_page() -> None:
    text = "ticket #7\nlink: " + link_for("https://noc.example/", 7, "li")
    assert text.endswith("https://noc.example{signin:li:7}") and has_marks(text)
    asked: list[tuple[str, int]] = []

    def mint(user: str, ticket: int) -> str | None:
        asked.append((user, ticket))
        return "/console/t/TOKEN" if user == "li" else None

    assert fill(text, mint).endswith("https://noc.example/console/t/TOKEN")
    assert asked == [("li", 7)]
    assert fill(text, None).endswith("https://noc.example/console/tickets/7")
    other = link_for("https://noc.example", 8, "wang")
    assert fill(other, mint) == "https://noc.example/console/tickets/8"
    plain = link_for("https://noc.example", 9, None)
    assert plain == "https://noc.example/console/tickets/9" and not has_marks(plain)
