"""Customer story: the customer 360 and the journey told in plain language.

For a master account or person, `Story.customer360` gathers everything the company knows on one
page (profile, people, source records and why they were merged, value, risk and health, voice,
alerts and tasks, interactions per department); `Story.timeline` pages through their events
across departments; `Story.story` tells their journey in short sentences, each citing the
events behind it, optionally rephrased by a configured language model.
"""

from cxlens.config import StorySettings
from cxlens.story.customer360 import Customer360
from cxlens.story.narrative import Sentence
from cxlens.story.rephrase import Rephraser
from cxlens.story.service import Story, StoryResult

__all__ = ["Customer360", "Rephraser", "Sentence", "Story", "StoryResult", "StorySettings"]
