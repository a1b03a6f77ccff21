"""Optional rephrasing of a story by a language model behind an OpenAI-compatible endpoint.

Each sentence goes out with its citation markers ([1], [2], … numbered by first citation);
a rephrased sentence is kept only if it carries exactly the same markers, so every claim keeps
the events behind it. Anything else (a dropped or invented marker, an unreadable answer, a
timeout, a server that is down) leaves that sentence, or the whole story, as it was: the page
never fails because of the model. Nothing is sent unless a deployment configures it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import httpx
from pydantic import SecretStr

from cxlens.story.narrative import Sentence

MARKER = re.compile(r"\[(\d+)\]")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")

INSTRUCTIONS = (
    "You edit short customer stories written for account managers. Rephrase each sentence "
    "so it reads naturally and plainly. Keep every fact, number, date and name. Keep every "
    "citation marker such as [1] or [2] exactly as given, in the same sentence; never add, "
    'drop or renumber a marker. Answer with a JSON object {"sentences": [...]} holding the '
    "same number of sentences, in the same order, and nothing else."
)


def markers(text: str) -> list[str]:
    """The citation markers of a text, sorted: the same list means the same citations."""
    return sorted(MARKER.findall(text), key=int)


def with_markers(sentence: Sentence, numbers: dict[str, int]) -> str:
    return sentence.text + " " + "".join(f"[{numbers[i]}]" for i in sentence.event_ids)


def without_markers(text: str) -> str:
    clean = MARKER.sub("", text)
    clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
    return " ".join(clean.split())


def _sentences(content: str) -> list[str] | None:
    """The sentences of the model's answer, or None when it is not the JSON asked for."""
    try:
        data: Any = json.loads(_FENCE.sub("", content.strip()))
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict):
        data = data.get("sentences")
    if not isinstance(data, list) or not all(isinstance(s, str) for s in data):
        return None
    return list(data)


class Rephraser:
    """Asks `{base_url}/chat/completions` to rephrase a story, citation by citation."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: SecretStr | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def _ask(self, marked: Sequence[str]) -> list[str] | None:
        headers = {"Content-Type": "application/json"}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key.get_secret_value()}"
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": json.dumps({"sentences": list(marked)})},
            ],
        }
        with httpx.Client(timeout=self.timeout) as client:
            response = client.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        return _sentences(str(content))

    def rephrase(
        self, sentences: Sequence[Sentence], numbers: dict[str, int]
    ) -> tuple[list[Sentence], bool]:
        """The sentences rephrased where the model kept their markers, and whether the model
        answered at all. `numbers` maps each cited event id to its marker number."""
        original = list(sentences)
        if not original:
            return original, False
        marked = [with_markers(s, numbers) for s in original]
        try:
            answer = self._ask(marked)
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError):
            # Down, slow, refusing or answering in another shape: the story stands as it is.
            return original, False
        if answer is None or len(answer) != len(original):
            return original, False
        out = []
        for sentence, asked, given in zip(original, marked, answer, strict=True):
            text = without_markers(given)
            # A sentence quoting brackets of its own could not be checked: it stays as it is.
            own = MARKER.search(sentence.text) is not None
            if markers(given) == markers(asked) and text and not own:
                out.append(replace(sentence, text=text))
            else:
                out.append(sentence)
        return out, True
