"""Where the customers live: the store cities, their postcodes / ZIPs, streets and phones.

Pure data. Postcode districts, ZIP codes, the locality names people write instead of the
postal town (Hackney, Brooklyn, Jamaica Plain), real street names and dialling codes are
those of the real cities, so formats and the ways they go wrong are the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from kenning.datagen.sampling import lines, words

Weights = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Area:
    """A postcode district (GB) or ZIP code (US) and the locality names used for it."""

    code: str
    names: Weights
    group: str = ""  # which street list serves it (boroughs differ in New York)


@dataclass(frozen=True, slots=True)
class CitySpec:
    key: str
    name: str
    country: str
    weight: float  # share of the customer base
    regions: Weights  # how the region / state field gets filled
    areas: tuple[Area, ...]
    streets: tuple[tuple[str, str], ...]  # real streets: (name, area group)
    roots: tuple[str, ...]  # for the many residential streets that are not listed
    flat_share: float  # households living in flats / apartments
    numbers: str  # house-number style: gb, us_grid, ny, boston
    landlines: tuple[tuple[str, int, float], ...]  # (NSN prefix, digits after it, weight)
    area_codes: Weights = ()  # US only


def _areas(codes: str, names: Weights, group: str = "") -> tuple[Area, ...]:
    return tuple(Area(code, names, group) for code in words(codes))


def _streets(text: str, group: str = "") -> tuple[tuple[str, str], ...]:
    return tuple((name, group) for name in lines(text))


LONDON_LOCALITIES: dict[str, str] = {
    "E1": "Whitechapel", "E2": "Bethnal Green", "E3": "Bow", "E5": "Clapton", "E8": "Hackney",
    "E9": "Hackney", "E17": "Walthamstow", "N1": "Islington", "N4": "Finsbury Park",
    "N16": "Stoke Newington", "NW3": "Hampstead", "NW6": "Kilburn", "SE15": "Peckham",
    "SE22": "East Dulwich", "SW2": "Brixton", "SW4": "Clapham", "SW11": "Battersea",
    "SW12": "Balham", "SW17": "Tooting", "W4": "Chiswick", "W11": "Notting Hill",
    "W12": "Shepherd's Bush",
}  # fmt: skip

_LONDON_AREAS = tuple(
    Area(code, (("London", 0.9), (LONDON_LOCALITIES[code], 0.1)))
    if code in LONDON_LOCALITIES
    else Area(code, (("London", 1.0),))
    for code in words("""
        E1 E2 E3 E5 E8 E9 E10 E11 E14 E17 N1 N4 N5 N7 N8 N16 N19 NW1 NW3 NW5 NW6 NW10 SE1
        SE5 SE13 SE15 SE22 SE23 SW2 SW4 SW6 SW9 SW11 SW12 SW15 SW16 SW17 SW18 W2 W4 W6 W10
        W11 W12 W14 EC1V WC1N
    """)
)

GB_ROOTS = (
    *words("""
    Albert Victoria Alexandra Church Park Mill Station Queens Kings Grange Manor Elm Oak
    Beech Cedar Willow Chestnut Grosvenor Lansdowne Devonshire Cavendish Highbury Canonbury
    Albion Cromwell Stanhope Trinity Wellington Nelson Clarence Richmond Windsor Stanley
    Salisbury Beaconsfield Gladstone Palmerston Hamilton Sutherland Ashburnham Elgin
    Cambridge Oxford Bedford Cornwall Warwick Chatsworth Melrose Belgrave Thornhill Milton
    Tennyson Wordsworth Byron Shelley Fairfield Springfield Highfield Westfield Hazel Rowan
    Holly Laurel Hawthorn Lime Poplar Sycamore Harcourt Mortimer Percy Howard Russell
    Spencer Dudley Egerton Talbot Fitzroy Rosebery Lorne Argyle Granby Burton Heaton Moss
    Clifton Osborne Carlton Marlborough Denmark Malvern Hartington Ellesmere Ladysmith
    Mafeking Kimberley Blenheim Ravensworth Brondesbury Aberdeen Durham Chester Lancaster
    York Hereford Norfolk Suffolk Somerset Ormonde Glenthorne Kenilworth Pembroke
"""),
    "St John's",
    "St Mary's",
    "St Paul's",
    "Queen's",
    "King's",
    "Bishop's",
)

US_ROOTS = words("""
    Walnut Chestnut Spruce Pine Maple Oak Elm Cedar Locust Poplar Willow Cherry Laurel
    Magnolia Linden Franklin Washington Jefferson Madison Monroe Lincoln Grant Hamilton
    Clinton Jackson Adams Warren Hancock Lexington Concord Prospect Highland Park Church
    Mill Spring Summit Center Union Liberty Vine Ridge Greenwood Fairmount Wyoming Tioga
    Allegheny Susquehanna Huntingdon Dauphin Wharton Reed Tasker Mifflin Morris Dickinson
    Federal Carpenter Catharine Fitzwater Webster Montrose Beacon Dartmouth Exeter
    Gloucester Hereford Berkeley Clarendon Appleton Chandler Shawmut Bowdoin Quincy Perry
    Hudson Greene Sullivan Thompson Carroll Sterling Lafayette Putnam Gates Halsey Macon
    Hart Willoughby Lorimer Leonard Graham Kingsland Manhattan Nassau Meserole Bergen Dean
""")

_PHILLY_NUMBERED = tuple(
    (f"{d} {n} Street", "")
    for d in ("N", "S")
    for n in words("""
        2nd 3rd 4th 5th 6th 10th 11th 12th 13th 15th 16th 17th 18th 19th 20th 21st 22nd 23rd
        24th 33rd 40th 45th 52nd 60th
    """)
)
_MANHATTAN_NUMBERED = tuple(
    (f"{d} {n}th Street", "manhattan")
    for d in ("W", "E")
    for n in (
        4, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 24, 26, 27, 28, 29, 30, 54, 55, 56, 57,
        58, 64, 65, 66, 67, 68, 69, 70, 74, 75, 76, 77, 78, 79, 80, 84, 85, 86, 87, 88, 89,
        90, 94, 95, 96, 97, 98, 99, 104, 105, 106, 107, 108, 109, 110, 114, 115, 116, 117,
        118, 119, 144, 145, 146, 147, 148, 149, 150, 174, 175, 176, 177, 178, 179,
    )
)  # fmt: skip

LONDON = CitySpec(
    key="london", name="London", country="GB", weight=0.30,
    regions=(("", 0.74), ("London", 0.11), ("Greater London", 0.10), ("Middlesex", 0.05)),
    areas=_LONDON_AREAS,
    streets=_streets("""
        Kingsland Road
        Mare Street
        Upper Street
        Essex Road
        Holloway Road
        Caledonian Road
        Stoke Newington Church Street
        Green Lanes
        Camden Road
        Kentish Town Road
        Finchley Road
        Kilburn High Road
        Portobello Road
        Ladbroke Grove
        Elgin Crescent
        Goldhawk Road
        Uxbridge Road
        Askew Road
        Fulham Palace Road
        Munster Road
        Lillie Road
        King's Road
        Lavender Hill
        Northcote Road
        Battersea Rise
        Balham High Road
        Tooting High Street
        Brixton Road
        Coldharbour Lane
        Acre Lane
        Clapham Road
        Walworth Road
        Rye Lane
        Lordship Lane
        Peckham Road
        Lewisham High Street
        Roman Road
        Bethnal Green Road
        Columbia Road
        Whitechapel Road
        Commercial Road
        Hoe Street
        Lea Bridge Road
        Streatham High Road
        Putney High Street
        Chiswick High Road
        Amhurst Road
        Dalston Lane
        Blackstock Road
    """),
    roots=GB_ROOTS, flat_share=0.55, numbers="gb",
    landlines=(("207", 7, 0.40), ("208", 7, 0.45), ("203", 7, 0.15)),
)  # fmt: skip

MANCHESTER = CitySpec(
    key="manchester", name="Manchester", country="GB", weight=0.10,
    regions=(("", 0.72), ("Greater Manchester", 0.16), ("Lancashire", 0.08), ("Lancs", 0.04)),
    areas=_areas("M1 M4 M8 M9 M11 M12 M13 M14 M15 M16 M19 M20 M21 M22 M40",
                 (("Manchester", 0.97), ("Didsbury", 0.03))),
    streets=_streets("""
        Wilmslow Road
        Oxford Road
        Stockport Road
        Burton Road
        Barlow Moor Road
        Palatine Road
        Princess Road
        Hyde Road
        Ashton Old Road
        Oldham Road
        Rochdale Road
        Cheetham Hill Road
        Withington Road
        Ladybarn Lane
        Mauldeth Road
        Kingsway
        Moss Lane East
        Great Ancoats Street
        Chorlton Road
        Wilbraham Road
        Upper Chorlton Road
    """),
    roots=GB_ROOTS, flat_share=0.30, numbers="gb",
    landlines=(("161", 7, 1.0),),
)  # fmt: skip

EDINBURGH = CitySpec(
    key="edinburgh", name="Edinburgh", country="GB", weight=0.07,
    regions=(("", 0.72), ("Midlothian", 0.10), ("City of Edinburgh", 0.05), ("Scotland", 0.13)),
    areas=_areas("EH1 EH3 EH4 EH5 EH6 EH7 EH8 EH9 EH10 EH11 EH12 EH13 EH14 EH15 EH16 EH17",
                 (("Edinburgh", 0.95), ("Leith", 0.05))),
    streets=_streets("""
        Leith Walk
        Easter Road
        Marchmont Road
        Warrender Park Road
        Bruntsfield Place
        Morningside Road
        Comiston Road
        Dalry Road
        Gorgie Road
        Great Junction Street
        Ferry Road
        Broughton Street
        London Road
        Montgomery Street
        Comely Bank Avenue
        Raeburn Place
        Portobello High Street
        Dalkeith Road
        Causewayside
        Polwarth Gardens
    """),
    roots=GB_ROOTS, flat_share=0.58, numbers="gb",
    # 0131 numbers never start with 9 or 0/1.
    landlines=(("1312", 6, 0.25), ("1313", 6, 0.2), ("1314", 6, 0.2), ("1315", 6, 0.15),
               ("1316", 6, 0.1), ("1317", 6, 0.1)),
)  # fmt: skip

PHILADELPHIA = CitySpec(
    key="philadelphia", name="Philadelphia", country="US", weight=0.20,
    regions=(("PA", 0.80), ("Pa", 0.03), ("Pennsylvania", 0.15), ("Penn", 0.02)),
    areas=_areas(
        """19102 19103 19104 19106 19107 19111 19114 19115 19116 19118 19119 19120 19121
        19122 19123 19124 19125 19128 19130 19131 19134 19135 19136 19139 19140 19141
        19143 19144 19145 19146 19147 19148 19149 19152 19154""",
        (("Philadelphia", 0.92), ("Phila", 0.05), ("Phila.", 0.02), ("Philly", 0.01)),
    ),
    streets=_streets("""
        Walnut Street
        Chestnut Street
        Spruce Street
        Pine Street
        Locust Street
        Market Street
        Arch Street
        Race Street
        Vine Street
        Lombard Street
        South Street
        Bainbridge Street
        Christian Street
        Washington Avenue
        East Passyunk Avenue
        Girard Avenue
        Frankford Avenue
        Germantown Avenue
        Ridge Avenue
        Lancaster Avenue
        Baltimore Avenue
        Kensington Avenue
        Aramingo Avenue
        Cottman Avenue
        Castor Avenue
        Oxford Avenue
        Henry Avenue
        Cresson Street
        Main Street
        Wissahickon Avenue
        Fairmount Avenue
        Spring Garden Street
    """) + _PHILLY_NUMBERED,
    roots=US_ROOTS, flat_share=0.35, numbers="us_grid",
    landlines=(), area_codes=(("215", 0.62), ("267", 0.30), ("445", 0.08)),
)  # fmt: skip

NEW_YORK = CitySpec(
    key="new_york", name="New York", country="US", weight=0.20,
    regions=(("NY", 0.86), ("New York", 0.12), ("N.Y.", 0.02)),
    areas=_areas(
        """10001 10002 10003 10009 10011 10012 10013 10014 10016 10019 10021 10023 10024
        10025 10026 10027 10028 10031 10032 10033 10034 10040""",
        (("New York", 0.80), ("NYC", 0.06), ("New York City", 0.06), ("Manhattan", 0.05),
         ("NY", 0.03)),
        "manhattan",
    ) + _areas(
        """11201 11205 11206 11211 11215 11216 11217 11218 11220 11221 11222 11225 11226
        11230 11231 11238""",
        (("Brooklyn", 0.85), ("New York", 0.10), ("Bklyn", 0.05)),
        "brooklyn",
    ) + (
        # Queens addresses name the neighbourhood, not the borough.
        Area("11101", (("Long Island City", 0.75), ("Queens", 0.15), ("LIC", 0.1)), "queens"),
        Area("11102", (("Astoria", 0.8), ("Queens", 0.12), ("New York", 0.08)), "queens"),
        Area("11354", (("Flushing", 0.85), ("Queens", 0.15)), "queens"),
        Area("11372", (("Jackson Heights", 0.8), ("Queens", 0.2)), "queens"),
        Area("11375", (("Forest Hills", 0.8), ("Queens", 0.2)), "queens"),
        Area("11373", (("Elmhurst", 0.8), ("Queens", 0.2)), "queens"),
    ),
    streets=_streets("""
        Broadway
        Amsterdam Avenue
        Columbus Avenue
        Lexington Avenue
        3rd Avenue
        2nd Avenue
        1st Avenue
        Riverside Drive
        West End Avenue
        St Nicholas Avenue
        Frederick Douglass Boulevard
        Avenue A
        Avenue B
        Bleecker Street
        Mott Street
        Elizabeth Street
        Orchard Street
    """, "manhattan") + _MANHATTAN_NUMBERED + _streets("""
        Atlantic Avenue
        Bedford Avenue
        Flatbush Avenue
        Nostrand Avenue
        Eastern Parkway
        Ocean Parkway
        5th Avenue
        7th Avenue
        Court Street
        Smith Street
        Myrtle Avenue
        DeKalb Avenue
        Franklin Avenue
        Union Street
        President Street
        Carroll Street
        Bergen Street
        Lafayette Avenue
        Greene Avenue
        Halsey Street
        Manhattan Avenue
        Driggs Avenue
        Prospect Park West
        Cortelyou Road
        Church Avenue
    """, "brooklyn") + _streets("""
        Steinway Street
        31st Avenue
        Queens Boulevard
        Roosevelt Avenue
        37th Avenue
        Austin Street
        Main Street
        Northern Boulevard
        21st Street
        30th Avenue
        Ditmars Boulevard
        Broadway
        Kissena Boulevard
        Sanford Avenue
        35th Avenue
        Vernon Boulevard
        Jackson Avenue
        Yellowstone Boulevard
    """, "queens"),
    roots=US_ROOTS, flat_share=0.78, numbers="ny",
    landlines=(),
    area_codes=(("212", 0.22), ("646", 0.18), ("917", 0.2), ("718", 0.2), ("347", 0.12),
                ("929", 0.05), ("332", 0.03)),
)  # fmt: skip

BOSTON = CitySpec(
    key="boston", name="Boston", country="US", weight=0.13,
    regions=(("MA", 0.82), ("Mass", 0.05), ("Massachusetts", 0.13)),
    areas=(
        *_areas(
            """02108 02109 02110 02111 02113 02114 02115 02116 02118 02119 02120 02121 02122
            02125 02128 02210 02215""",
            (("Boston", 0.97), ("Bos", 0.03)),
        ),
        # Neighbourhood names are valid postal cities here too.
        Area("02130", (("Jamaica Plain", 0.55), ("Boston", 0.45))),
        Area("02135", (("Brighton", 0.6), ("Boston", 0.4))),
        Area("02134", (("Allston", 0.6), ("Boston", 0.4))),
        Area("02124", (("Dorchester", 0.6), ("Boston", 0.35), ("Dorchester Center", 0.05))),
        Area("02127", (("South Boston", 0.6), ("Boston", 0.4))),
        Area("02129", (("Charlestown", 0.65), ("Boston", 0.35))),
        Area("02131", (("Roslindale", 0.6), ("Boston", 0.4))),
        Area("02132", (("West Roxbury", 0.6), ("Boston", 0.4))),
    ),
    streets=_streets("""
        Commonwealth Avenue
        Beacon Street
        Newbury Street
        Marlborough Street
        Boylston Street
        Tremont Street
        Washington Street
        Dorchester Avenue
        Centre Street
        Massachusetts Avenue
        Huntington Avenue
        Columbus Avenue
        Hanover Street
        Salem Street
        Cambridge Street
        Charles Street
        East Broadway
        West Broadway
        L Street
        Adams Street
        Blue Hill Avenue
        Hyde Park Avenue
        Brighton Avenue
        Harvard Avenue
        South Huntington Avenue
        Savin Hill Avenue
        Shawmut Avenue
        Dartmouth Street
    """),
    roots=US_ROOTS, flat_share=0.58, numbers="boston",
    landlines=(), area_codes=(("617", 0.85), ("857", 0.15)),
)  # fmt: skip

CITIES: tuple[CitySpec, ...] = (LONDON, MANCHESTER, EDINBURGH, PHILADELPHIA, NEW_YORK, BOSTON)
# The countries the generated retailer trades in (Kenning's markets setting).
MARKETS = ",".join(sorted({city.country for city in CITIES}))

# Street-type words: full form, then the abbreviations systems use for it.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "Street": ("St", "St.", "Str"), "Road": ("Rd", "Rd."), "Avenue": ("Ave", "Ave.", "Av"),
    "Gardens": ("Gdns",), "Grove": ("Gr", "Gro"), "Close": ("Cl",), "Crescent": ("Cres",),
    "Terrace": ("Terr", "Ter"), "Lane": ("Ln", "La"), "Place": ("Pl",), "Way": ("Wy",),
    "Drive": ("Dr", "Dr."), "Court": ("Ct",), "Square": ("Sq",), "Mews": ("Mews",),
    "Boulevard": ("Blvd", "Blvd."), "Parkway": ("Pkwy",), "Walk": ("Wlk",),
    "Broadway": ("Bway", "B'way"), "Kingsway": ("Kingsway",),
}  # fmt: skip
DIRECTIONS: dict[str, str] = {"N": "North", "S": "South", "E": "East", "W": "West"}

GB_SUFFIX_WEIGHTS: Weights = (
    ("Road", 0.30), ("Street", 0.18), ("Avenue", 0.09), ("Gardens", 0.07), ("Grove", 0.06),
    ("Close", 0.05), ("Crescent", 0.05), ("Terrace", 0.05), ("Lane", 0.05), ("Place", 0.04),
    ("Way", 0.03), ("Drive", 0.02), ("Mews", 0.01),
)  # fmt: skip
US_SUFFIX_WEIGHTS: Weights = (
    ("Street", 0.50), ("Avenue", 0.25), ("Road", 0.05), ("Place", 0.05), ("Lane", 0.04),
    ("Terrace", 0.04), ("Court", 0.03), ("Drive", 0.02), ("Boulevard", 0.02),
)  # fmt: skip
BUILDING_KINDS = ("House", "Court", "Mansions", "Lodge", "Point", "Apartments", "Heights")

# Postcode unit letters: the Royal Mail never uses C, I, K, M, O or V there.
GB_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
