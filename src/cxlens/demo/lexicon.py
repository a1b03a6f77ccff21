"""Fixed vocabularies of the demo company: names, places, staff, plans, products, providers.

Everything here is plain data; the generators sample from it with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.demo.places import COUNTRIES, Country

__all__ = ["COUNTRIES", "Country"]


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Parse "a=b; c=d" into ((a, b), (c, d)); keeps long word lists compact."""
    items = (item.split("=") for item in text.split("; "))
    return tuple((k.strip(), v.strip()) for k, v in items)


PRODUCT = "Lumio"
SHOP_DOMAIN = "lumio.io"

SEGMENTS = ("enterprise", "mid-market", "smb")
SEGMENT_LABELS = ("Enterprise", "Mid-Market", "SMB")
SEGMENT_SHARE = (0.10, 0.30, 0.60)
#: employees drawn log-uniformly between these bounds, per segment
SEGMENT_EMPLOYEES = ((1_000, 60_000), (100, 999), (5, 99))

NAME_PREFIXES = tuple(
    (
        "Blue Bright Cedar Clear Copper Crest Delta Eagle Ember Ever Falcon First "
        "Frontier Golden Granite Harbor Helix Horizon Iron Juniper Keystone Lake Liberty "
        "Lumen Maple Meridian Metro Nimbus North Nova Oak Onyx Orbit Pacific Peak Pine "
        "Pioneer Prairie Prime Quantum Radiant Red Ridge River Rock Sage Silver Sky Solar "
        "Sterling Stone Summit Sun Swift Terra Tidal True Union Vantage Vertex Vista West "
        "Willow Zenith Atlas Beacon Bold Canyon Coastal Crystal Echo Elm Fox Glacier High "
        "Indigo Jade Kite Arbor Aspen"
    ).split()
)

NAME_STEMS = tuple(
    (
        "wave point line bridge field stone works gate path light view forge spring wood "
        "core port star brook side base mark way land vale shore ridge hill mill hub "
        "stack loop leaf wing well bay dale grid sphere scape craft sight beam mint nest "
        "rock ton crest haven fold reach peak cliff glen moor ford"
    ).split()
)

#: (business word used in names, industry)
BUSINESS_TYPES = _pairs(
    "Analytics=Technology; Software=Technology; Systems=Technology; Labs=Technology; "
    "Cloud=Technology; Data=Technology; Networks=Telecommunications; "
    "Telecom=Telecommunications; Logistics=Transportation; Freight=Transportation; "
    "Motors=Automotive; Health=Healthcare; Clinics=Healthcare; Dental=Healthcare; "
    "Pharma=Biotechnology; Bio=Biotechnology; Foods=Food & Beverage; Coffee=Food & "
    "Beverage; Brewing=Food & Beverage; Energy=Energy; Solar=Energy; "
    "Electric=Utilities; Water=Utilities; Capital=Financial Services; "
    "Payments=Financial Services; Insurance=Insurance; Realty=Real Estate; "
    "Properties=Real Estate; Media=Media; Studios=Media; Games=Entertainment; "
    "Consulting=Consulting; Partners=Consulting; Advisors=Consulting; "
    "Manufacturing=Manufacturing; Industries=Manufacturing; Robotics=Manufacturing; "
    "Chemicals=Chemicals; Retail=Retail; Outfitters=Retail; Apparel=Apparel; "
    "Brands=Consumer Goods; Home=Consumer Goods; Pet Supply=Retail; "
    "Hospitality=Hospitality; Hotels=Hospitality; Travel=Travel; Education=Education; "
    "Learning=Education; Legal=Legal; Security=Technology; Aerospace=Aerospace; "
    "Marine=Transportation; Agri=Agriculture; Farms=Agriculture; "
    "Construction=Construction; Builders=Construction; Staffing=Staffing; "
    "Fitness=Health & Wellness; Design=Media"
)


CURRENCIES = ("USD", "EUR", "GBP")

#: account executives (own opportunities and sales tasks)
ACCOUNT_EXECUTIVES = (
    "Dana Whitfield",
    "Marcus Chen",
    "Priya Raman",
    "Tom Okafor",
    "Elena Sorokina",
)
#: customer-success managers (own customer accounts)
CSMS = (
    "Rachel Kim",
    "Jordan Alvarez",
    "Sophie Laurent",
    "Ben Adeyemi",
    "Hannah Fischer",
    "Luis Ortega",
    "Megan O'Brien",
)
SUPPORT_AGENTS = (
    "Aisha Patel",
    "Carlos Mendes",
    "Grace Liu",
    "Noah Berg",
    "Olivia Grant",
    "Samir Haddad",
    "Tessa Novak",
    "Victor Alvarez",
)
FIELD_STAFF = ("Kyle Brennan", "Ines Duarte", "Oscar Lindqvist")
MARKETERS = ("Fiona Park", "Jake Morrison")

ROLE_CHAMPION, ROLE_ADMIN, ROLE_FINANCE, ROLE_USER = 0, 1, 2, 3
TITLES = (
    (
        "Head of Customer Success",
        "VP Operations",
        "Director of Customer Experience",
        "Chief Operating Officer",
        "Head of Support",
        "Customer Operations Manager",
        "Director of Revenue Operations",
        "VP Customer Success",
    ),
    (
        "Systems Administrator",
        "RevOps Analyst",
        "CRM Administrator",
        "IT Manager",
        "Business Systems Manager",
    ),
    ("Finance Manager", "Controller", "Accounts Payable Specialist", "CFO", "Procurement Manager"),
    (
        "Customer Success Manager",
        "Support Specialist",
        "Account Manager",
        "Data Analyst",
        "Operations Analyst",
        "Team Lead, Support",
        "Onboarding Specialist",
        "Sales Manager",
    ),
)

PERSONAL_DOMAINS = (
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "protonmail.com",
)

NICKNAMES = dict(
    _pairs(
        "Robert=Bob; William=Bill; Elizabeth=Liz; Katherine=Kate; Catherine=Cathy; "
        "Michael=Mike; Christopher=Chris; Jennifer=Jen; Jessica=Jess; Matthew=Matt; "
        "Daniel=Dan; Joseph=Joe; Thomas=Tom; James=Jim; Richard=Rick; Anthony=Tony; "
        "Andrew=Andy; Joshua=Josh; Nicholas=Nick; Jonathan=Jon; Benjamin=Ben; Samuel=Sam; "
        "Alexander=Alex; Patricia=Trish; Margaret=Maggie; Rebecca=Becky; Stephanie=Steph; "
        "Samantha=Sam; Victoria=Vicky; Deborah=Debbie; Susan=Sue; Kimberly=Kim; "
        "Timothy=Tim; Steven=Steve; Stephen=Steve; Edward=Ed; Charles=Charlie; "
        "Gregory=Greg; Jeffrey=Jeff; Kenneth=Ken; Ronald=Ron; Donald=Don; Raymond=Ray; "
        "Lawrence=Larry; Gerald=Jerry; Frederick=Fred; Peter=Pete; Zachary=Zach; "
        "Nathaniel=Nate; Nathan=Nate; Jacob=Jake; Abigail=Abby; Allison=Allie; "
        "Cynthia=Cindy; Pamela=Pam; Barbara=Barb; Christina=Tina; Christine=Chris; "
        "Alexandra=Alex; Jacqueline=Jackie; Melissa=Mel; Kathleen=Kathy; Douglas=Doug; "
        "Phillip=Phil; Philip=Phil; Bradley=Brad; Randall=Randy; Vincent=Vince; "
        "Gabriel=Gabe; Valerie=Val; Madison=Maddie; Natalie=Nat; Megan=Meg; "
        "Cassandra=Cassie; David=Dave; Jeremy=Jerry; Michelle=Shelly; Dorothy=Dot; "
        "Leonard=Leo; Russell=Russ; Theodore=Ted; Nicole=Nikki; Kristen=Kris; "
        "Amanda=Mandy; Mitchell=Mitch; Harold=Harry; Walter=Walt; Albert=Al; Eugene=Gene; "
        "Francis=Frank; Franklin=Frank"
    )
)

#: (code, ChartMogul plan name, price per seat in cents per currency USD, EUR, GBP)
PLANS = (
    ("starter", "Starter", (2_900, 2_700, 2_400)),
    ("growth", "Growth", (5_900, 5_500, 4_900)),
    ("business", "Business", (9_900, 9_200, 8_200)),
    ("enterprise", "Enterprise", (14_900, 13_900, 12_500)),
)
#: prices after the 2025 price increase (only the two self-serve plans changed)
PLANS_AFTER_INCREASE = ((3_500, 3_300, 2_900), (6_900, 6_500, 5_700), None, None)

FEATURES = (
    "dashboards",
    "reports",
    "automations",
    "health_scores",
    "playbooks",
    "surveys",
    "segments",
    "integrations",
    "alerts",
    "exports",
    "journeys",
    "timeline",
)


@dataclass(frozen=True)
class Product:
    name: str
    sku: str
    price_usd_cents: int
    category: str  # addon, marketplace, service
    vendor: str
    #: for services: (providers that deliver it, lead time in days low/high)
    providers: tuple[str, ...] = ()
    lead_days: tuple[int, int] = (0, 0)


PROVIDERS = (
    # name, on-time probability, failure probability
    ("Keystone Implementation Partners", 0.93, 0.01),
    ("Northbeam Consulting", 0.86, 0.02),
    ("Atlas Data Services", 0.72, 0.04),
    ("Pioneer Training Co.", 0.91, 0.01),
    ("Redwood Integrations", 0.60, 0.08),
    ("Summit Field Services", 0.80, 0.03),
    ("Lumio Professional Services", 0.88, 0.02),
)

PRODUCTS = (
    Product("Extra storage 100 GB", "LUM-ADD-STOR100", 4_900, "addon", PRODUCT),
    Product("Additional API quota (1M calls)", "LUM-ADD-API1M", 9_900, "addon", PRODUCT),
    Product("SMS credits (10k)", "LUM-ADD-SMS10K", 7_500, "addon", PRODUCT),
    Product("Sandbox environment (monthly)", "LUM-ADD-SBX", 19_900, "addon", PRODUCT),
    Product("SSO / SAML add-on (annual)", "LUM-ADD-SSO", 90_000, "addon", PRODUCT),
    Product("Premium support (annual)", "LUM-ADD-PSUP", 240_000, "addon", PRODUCT),
    Product(
        "Template pack: SaaS onboarding", "MKT-TPL-ONB", 2_900, "marketplace", "Playbook Studio"
    ),
    Product(
        "Template pack: Renewal playbooks", "MKT-TPL-REN", 3_900, "marketplace", "Playbook Studio"
    ),
    Product("Slack alerts app", "MKT-APP-SLACK", 4_900, "marketplace", "Pingworks"),
    Product("NPS widget theme", "MKT-APP-NPSW", 1_900, "marketplace", "Pingworks"),
    Product("Salesforce connector", "MKT-CON-SFDC", 19_900, "marketplace", "Stacklink"),
    Product("Zendesk sync", "MKT-CON-ZD", 9_900, "marketplace", "Stacklink"),
    Product("Snowflake export", "MKT-CON-SNOW", 14_900, "marketplace", "Datafold Partners"),
    Product(
        "Onboarding package",
        "SVC-ONB",
        150_000,
        "service",
        PRODUCT,
        ("Keystone Implementation Partners", "Northbeam Consulting", "Lumio Professional Services"),
        (14, 30),
    ),
    Product(
        "Data migration",
        "SVC-MIG",
        250_000,
        "service",
        PRODUCT,
        ("Atlas Data Services", "Redwood Integrations"),
        (20, 45),
    ),
    Product(
        "Custom integration (per day)",
        "SVC-INT-DAY",
        140_000,
        "service",
        PRODUCT,
        ("Redwood Integrations", "Atlas Data Services", "Northbeam Consulting"),
        (25, 60),
    ),
    Product(
        "Admin training (half day)",
        "SVC-TRN-HALF",
        60_000,
        "service",
        PRODUCT,
        ("Pioneer Training Co.", "Lumio Professional Services"),
        (7, 21),
    ),
    Product(
        "On-site workshop",
        "SVC-WKS",
        320_000,
        "service",
        PRODUCT,
        ("Summit Field Services", "Pioneer Training Co."),
        (14, 40),
    ),
    Product(
        "Health score design session",
        "SVC-HSD",
        90_000,
        "service",
        PRODUCT,
        ("Lumio Professional Services", "Northbeam Consulting"),
        (10, 25),
    ),
)
ONBOARDING_PRODUCT = 13  # index of "Onboarding package"

SOCIAL_PLATFORMS = ("X", "LinkedIn", "Reddit", "G2", "Capterra", "Facebook")
SOCIAL_PLATFORM_SHARE = (0.34, 0.30, 0.12, 0.10, 0.06, 0.08)
SOCIAL_URLS = (
    "https://x.com/{h}/status/{id}",
    "https://www.linkedin.com/feed/update/{id}",
    "https://www.reddit.com/r/CustomerSuccess/comments/{id}",
    "https://www.g2.com/products/lumio/reviews/{id}",
    "https://www.capterra.com/p/lumio/reviews/{id}",
    "https://www.facebook.com/{h}/posts/{id}",
)
