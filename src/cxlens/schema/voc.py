"""Voice-of-the-customer results kept per run, and the analysts' theme taxonomy with its history."""

from __future__ import annotations

from cxlens.schema.columns import ColumnType, Table, col

T = ColumnType

VOC_RUNS = Table(
    name="voc_runs",
    doc="One row per text-analytics run: what was read, which models scored it, how they did.",
    key=("run_id",),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("ran_at", T.TIMESTAMP, nullable=False),
        col("as_of", T.TIMESTAMP, "Latest text time analysed.", nullable=False),
        col("texts", T.INTEGER, "Texts analysed.", nullable=False),
        col("sentiment_model", T.TEXT, "lexicon, or domain when trained on survey scores."),
        col("model_version", T.TEXT, "cxlens version that ran it.", nullable=False),
        col("taxonomy_version", T.INTEGER, "Taxonomy version the themes were assigned with."),
        col("metrics", T.JSON, "Domain-model gain, language counts, theme count, timings."),
    ),
)

VOC_MODELS = Table(
    name="voc_models",
    doc="The fitted sentiment and theme models of a run, so later texts score the same way.",
    key=("run_id", "kind"),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("kind", T.TEXT, "sentiment | themes", nullable=False),
        col("payload", T.TEXT, "The model, serialised and base64-encoded.", nullable=False),
    ),
)

VOC_TEXTS = Table(
    name="voc_texts",
    doc="Every text of a run with its language, sentiment and theme.",
    key=("run_id", "event_id"),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("event_id", T.TEXT, nullable=False),
        col("customer_id", T.TEXT, "Master customer, when the text's author is resolved."),
        col("occurred_at", T.TIMESTAMP, nullable=False),
        col("kind", T.TEXT, "Event kind: survey, ticket, social, note, community, …"),
        col("touchpoint", T.TEXT),
        col("language", T.TEXT, "ISO 639-1 code, or und when undetermined."),
        col("supported", T.BOOLEAN, "False when the sentiment model does not handle the language."),
        col("sentiment", T.TEXT, "negative | neutral | positive; empty when not scored."),
        col("sentiment_score", T.FLOAT, "P(positive) − P(negative), in [−1, 1]."),
        col("sentiment_model", T.TEXT, "lexicon or domain: which model scored the text."),
        col("theme_key", T.TEXT, "Primary theme; empty when none."),
        col("theme_weight", T.FLOAT),
        col("theme_source", T.TEXT, "rule | model"),
    ),
    indexes=(("event_id",), ("customer_id",)),
)

VOC_THEMES = Table(
    name="voc_themes",
    doc="Each theme of a run: label, top terms, volume, negativity and representative quotes.",
    key=("run_id", "theme_key"),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("theme_key", T.TEXT, nullable=False),
        col("label", T.TEXT, nullable=False),
        col("terms", T.JSON, "Top terms.", nullable=False),
        col("pinned", T.BOOLEAN, nullable=False),
        col("texts", T.INTEGER, nullable=False),
        col("share", T.FLOAT, "Share of all texts.", nullable=False),
        col("negative_share", T.FLOAT, "Share of its scored texts that are negative."),
        col("mean_sentiment", T.FLOAT),
        col("quotes", T.JSON, "Event ids of representative texts.", nullable=False),
    ),
)

VOC_DRIVERS = Table(
    name="voc_drivers",
    doc="What moves NPS, CSAT and churn: each theme's and touchpoint's effect, with an interval.",
    key=("run_id", "target", "factor_kind", "factor"),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("target", T.TEXT, "nps | csat | churn", nullable=False),
        col(
            "factor_kind",
            T.TEXT,
            "theme (complaints about it) | theme_praise (praise of it) | touchpoint",
            nullable=False,
        ),
        col("factor", T.TEXT, "Theme key or touchpoint name.", nullable=False),
        col("label", T.TEXT, nullable=False),
        col("n", T.INTEGER, "Answers (or customers) showing the factor.", nullable=False),
        col("share", T.FLOAT, "Their share of all answers (or customers).", nullable=False),
        col("effect", T.FLOAT, "Difference it makes per answer (or customer), adjusted."),
        col("impact", T.FLOAT, "Points the target moves if the factor is fixed."),
        col("impact_low", T.FLOAT, "90% interval of the impact (bootstrap)."),
        col("impact_high", T.FLOAT),
        col("base", T.FLOAT, "The target's current value."),
    ),
)

VOC_EMERGING = Table(
    name="voc_emerging",
    doc="Themes whose volume or negativity rose above their baseline, per period, with the test.",
    key=("run_id", "theme_key", "period_start", "signal"),
    columns=(
        col("run_id", T.TEXT, nullable=False),
        col("theme_key", T.TEXT, nullable=False),
        col("label", T.TEXT, nullable=False),
        col("period_start", T.TIMESTAMP, nullable=False),
        col("signal", T.TEXT, "volume | negativity", nullable=False),
        col("observed", T.INTEGER, nullable=False),
        col("expected", T.FLOAT, "Count expected from the baseline periods.", nullable=False),
        col("ratio", T.FLOAT, "Observed over expected.", nullable=False),
        col(
            "p_value", T.FLOAT, "One-sided binomial test against the baseline rate.", nullable=False
        ),
        col("q_value", T.FLOAT, "False-discovery-rate adjusted over themes.", nullable=False),
        col("emerging", T.BOOLEAN, "Significant and large enough to act on.", nullable=False),
    ),
    indexes=(("period_start",),),
)

VOC_TAXONOMY = Table(
    name="voc_taxonomy",
    doc="Every version of the theme taxonomy: who changed it, how, and the whole taxonomy after.",
    key=("version",),
    columns=(
        col("version", T.INTEGER, nullable=False),
        col("changed_at", T.TIMESTAMP, nullable=False),
        col("actor", T.TEXT, "Analyst, or cxlens for a discovery run.", nullable=False),
        col("action", T.TEXT, "discover | rename | merge | split | pin | unpin | rule | …"),
        col("detail", T.JSON, "What the action changed."),
        col("taxonomy", T.JSON, "The taxonomy after the change.", nullable=False),
    ),
)

VOC_TABLES = (VOC_RUNS, VOC_MODELS, VOC_TEXTS, VOC_THEMES, VOC_DRIVERS, VOC_EMERGING, VOC_TAXONOMY)
