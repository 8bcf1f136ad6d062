"""Name tables: weighted first and last names per country, nicknames, spelling variants.

The frequency lists come from faker's en_GB / en_US person providers (ONS and US Census /
SSA derived), with a long tail from its en_IE, en_NZ and en lists, read once as data;
faker itself is never called per row. A minority of names come from smaller pools (Irish,
Hispanic, South Asian, ...) so that accents, apostrophes and spellings that systems mangle
differently occur at a realistic rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from faker.providers.person.en import Provider as EN
from faker.providers.person.en_GB import Provider as GB
from faker.providers.person.en_IE import Provider as IE
from faker.providers.person.en_NZ import Provider as NZ
from faker.providers.person.en_US import Provider as US
from nicknames import NickNamer

from kenning.datagen.sampling import Table, lines, words, zipf

# Smaller pools mixed into each country: (male first names, female first names, last
# names), written the way the person writes them; systems may strip the accents.
POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "irish": (
        words("""Seán Ciarán Pádraig Eoin Niall Cian Declan Colm Darragh Cormac Oisín Ronan
              Fionn Conor Liam Aidan Brendan Killian Fergal Donal Tadhg Rory Shane Diarmuid"""),
        words("""Siobhán Niamh Aoife Róisín Sinéad Orla Caoimhe Aisling Ciara Saoirse Clodagh
              Gráinne Máire Áine Deirdre Eimear Fiona Maeve Nuala Bríd Síle Úna"""),
        (*words("""O'Brien O'Reilly O'Donoghue O'Sullivan O'Connor McCarthy Byrne Murphy
                Gallagher O'Neill McLoughlin Kelly Walsh Ryan Doyle Kennedy Lynch Quinn Brennan
                Fitzgerald O'Mahony Keane Duffy Flanagan Hegarty"""),
         "Ní Bhriain", "Mac Giolla"),
    ),
    "hispanic": (
        words("""José Jesús Andrés Ramón Luis Carlos Javier Joaquín Iván Alejandro Miguel Diego
              Fernando Rafael Sergio Héctor Óscar Raúl Jorge Emilio Mateo Santiago Julián
              Adrián Tomás Rubén"""),
        words("""María Sofía Lucía Inés Ana Mónica Verónica Daniela Lourdes Isabel Gabriela
              Carmen Rosa Elena Valeria Ximena Paola Camila Marisol Beatriz Adriana Guadalupe
              Leticia Yolanda"""),
        (*words("""García Núñez Muñoz Peña Ibáñez Rodríguez Hernández López Martínez Pérez
                Sánchez Vásquez Jiménez Ramírez Torres Flores Rivera Gómez Díaz Morales Ortiz
                Gutiérrez Chávez Ramos Castillo Romero Álvarez Mendoza Ruiz Vargas Castro
                Fernández Guzmán"""),
         "De La Cruz", "De León"),
    ),
    "south_asian": (
        words("""Mohammed Muhammad Arjun Rohan Imran Raj Sanjay Amir Kabir Vikram Rahul Aditya
              Hamza Bilal Usman Ravi Sunil Anil Nikhil Harpreet Gurpreet Tariq Faisal Zain
              Ayaan"""),
        words("""Priya Ananya Aisha Fatima Sana Deepa Nisha Zara Anjali Sunita Pooja Neha Kavita
              Ayesha Maryam Noor Simran Harleen Rupinder Meera Shreya Amina Samira Hina
              Nadia"""),
        words("""Patel Khan Singh Ahmed Hussain Begum Shah Kaur Chaudhry Iqbal Sharma Gupta
              Mistry D'Souza Ali Rahman Akhtar Malik Bibi Mahmood Islam Uddin Kumar Desai Joshi
              Mehta Sandhu Gill Dhillon Rao Reddy Nair Pillai Choudhury"""),
    ),
    "east_asian": (
        words("""Wei Jun Hiroshi Minh Jae Kenji Hao Tuan Jian Ming Lei Yong Takeshi Daisuke Hyun
              Sung Duc Huy Kai Bo Jin Hiro Yuto Seung-min"""),
        words("""Mei Yuki Li Hana Min-jung Linh Xin Ji-woo Ying Xiao Hui Jing Yan Lan Mai Thao
              Yumi Sakura Aiko Eun-ji Soo-jin Yoko Naomi Jia Fang"""),
        words("""Chen Wang Li Zhang Kim Nguyen Tran Wong Park Lee Tanaka Liu Huang Zhao Wu Zhou
              Lin Yang Sun Ma Le Pham Hoang Vu Choi Jung Kang Cho Yamamoto Suzuki Watanabe Ito
              Nakamura Lam Ho Cheung Chan Leung Tang Ng Yip"""),
    ),
    "west_african": (
        words("""Chidi Kwame Oluwaseun Tunde Emeka Kofi Femi Chinedu Kwabena Yaw Kojo Adewale
              Babatunde Segun Obinna Ikenna Chukwuemeka Ifeanyi Olumide Kayode Kwesi Nana Musa
              Ibrahim Abdul"""),
        words("""Ngozi Ama Adaeze Folake Abena Chioma Yetunde Efua Akosua Adwoa Funmilayo Bisi
              Nkechi Ifeoma Amaka Uche Zainab Temitope Omolara Esi Afia Comfort Blessing
              Grace"""),
        words("""Okafor Adeyemi Mensah Okonkwo Boateng Adebayo Owusu Eze Oyelaran Asante Osei
              Appiah Nwosu Obi Ogunleye Balogun Adeleke Afolabi Oduya Nwachukwu Agyeman Darko
              Ansah Opoku Bello Abubakar Ogundipe Akinola Olatunji"""),
    ),
    "european": (
        words("""François Björn Søren Łukasz André René Jürgen Tomasz Noël Luca Mateusz Piotr
              Krzysztof Marek Matteo Giuseppe Lorenzo Stefan Andreas Lars Henrik Pierre
              Jean-Luc Antoine Jakub Dawid Andrei Bogdan"""),
        words("""Zoë Chloë Renée Noémie Agnieszka Małgorzata Björk Léa Hélène Giulia Katarzyna
              Anna Magdalena Joanna Francesca Chiara Elena Sophie Camille Ingrid Astrid Sigrid
              Anaïs Éloïse Ioana Andreea Elżbieta"""),
        (*words("""Müller Schäfer Kowalski Nowak Rossi Dubois Lévesque Wiśniewski Jørgensen
                Lewandowski Wójcik Kamiński Zieliński Russo Ferrari Esposito Romano Bianchi
                Schmidt Schneider Fischer Weber Becker Hoffmann Lefebvre Moreau Laurent Girard
                Andersen Nielsen Hansen Johansson Popescu Ionescu Novák Dvořák Horváth Jansen"""),
         "Van der Berg", "Le Roux", "Da Silva", "St. Clair", "De Vries"),
    ),
}  # fmt: skip

# How often each pool supplies a person's names, per country (the rest: the ONS / Census
# frequency lists).
POOL_WEIGHTS: dict[str, dict[str, float]] = {
    "GB": {"local": 0.83, "irish": 0.04, "south_asian": 0.06, "west_african": 0.025,
           "east_asian": 0.02, "european": 0.02, "hispanic": 0.005},
    "US": {"local": 0.80, "irish": 0.03, "hispanic": 0.08, "east_asian": 0.035,
           "south_asian": 0.025, "west_african": 0.01, "european": 0.02},
}  # fmt: skip

# Common given names people write with an accent; tills and web forms often drop it.
ACCENTED: dict[str, str] = {
    "Zoe": "Zoë", "Chloe": "Chloë", "Renee": "Renée", "Jose": "José", "Andre": "André",
    "Sean": "Seán", "Sian": "Siân", "Noel": "Noël", "Rene": "René", "Joel": "Joël",
}  # fmt: skip

# Spellings an associate hears the same way and types differently.
SOUND_ALIKES: tuple[tuple[str, ...], ...] = tuple(
    words(group)
    for group in lines("""
        Mohammed Mohammad Muhammad Mohamed
        Catherine Katherine Kathryn
        Stephen Steven
        Sean Shaun Shawn
        Philip Phillip
        Geoffrey Jeffrey
        Rachel Rachael
        Sarah Sara
        Ann Anne
        Jane Jayne
        Alan Allan Allen
        Brian Bryan
        Claire Clare
        Lindsay Lindsey
        Theresa Teresa
        Nicola Nichola
        Matthew Mathew
        Jon John
        Kerry Kerrie
        Tracy Tracey
        Stuart Stewart
        Louise Louisa
        Caitlin Katelyn Kaitlyn
        Megan Meghan
        Jeffery Jeffrey
        Erik Eric
        Carl Karl
        Thomson Thompson
        Clarke Clark
        Reid Reed
        Gray Grey
        Mathews Matthews
        Philips Phillips
        Macdonald McDonald
        Davies Davis
        Smyth Smith
        Byrne Burn
        Ahmed Ahmad
    """)
)

# Nicknames from the ``nicknames`` package are kept when they start like the name (Liz is
# dropped for Elizabeth by that rule, so the common off-initial ones are listed) and are not
# archaic or obscure.
_OFF_INITIAL = frozenset(
    words("""
    bill billy bob bobby dick peggy peg meg ted teddy ned jack sally sadie betty bess beth
    betsy liz lizzie libby tony sandy trish tricia hank harry polly molly daisy chuck patty
    patsy kate kathy katie kit
""")
)
_ARCHAIC = frozenset(
    words("""
    bela bell dob dobbin hob hobkin hodge thirza thursa thias thys claas claes sukey mantha
    reba day jem lib jock dickon ian hannah rupert micah lena trina dicey nib nibby nabby
    alla cintha gare kenj lodi nole nollie rienne than zay zachy dal dahl fina frony virgy
    dortha jos ib pate tibbie essa enne fel feli morey colie cordy squat stal gory hap haps
    mamie biddie biddy dunk
""")
)

TITLES_MALE = Table((("Mr", 0.96), ("Dr", 0.04)))
TITLES_FEMALE = Table((("Mrs", 0.42), ("Ms", 0.38), ("Miss", 0.16), ("Dr", 0.04)))


@dataclass(frozen=True, slots=True)
class CountryNames:
    """Draw tables for one country: pool choice, then a name within the pool."""

    pools: Table[str]
    male: dict[str, Table[str]]
    female: dict[str, Table[str]]
    last: dict[str, Table[str]]


@dataclass(frozen=True, slots=True)
class NameBank:
    countries: dict[str, CountryNames]
    nicknames: dict[str, tuple[str, ...]]  # lower-case formal name -> title-case nicknames
    sound_alikes: dict[str, tuple[str, ...]]  # name -> the other spellings


def _pool_tables(
    local_male: Table[str], local_female: Table[str], local_last: Table[str], country: str
) -> CountryNames:
    male: dict[str, Table[str]] = {"local": local_male}
    female: dict[str, Table[str]] = {"local": local_female}
    last: dict[str, Table[str]] = {"local": local_last}
    for pool, (m, f, ln) in POOLS.items():
        male[pool] = zipf(m, 8.0)
        female[pool] = zipf(f, 8.0)
        last[pool] = zipf(ln, 8.0)
    return CountryNames(Table(POOL_WEIGHTS[country].items()), male, female, last)


def _nickname_table(formal: list[str]) -> dict[str, tuple[str, ...]]:
    namer = NickNamer()
    table: dict[str, tuple[str, ...]] = {}
    for name in formal:
        low = name.lower()
        keep = []
        # sorted(): the package returns sets, whose order must not leak into the output.
        for nick in sorted(namer.nicknames_of(low)):
            if nick in _ARCHAIC or "." in nick or len(nick) < 2 or len(nick) >= len(low):
                continue
            same_start = nick[0] == low[0] or {nick[0], low[0]} == {"c", "k"}
            if same_start or nick in _OFF_INITIAL:
                keep.append(nick.title())
        if keep:
            table[low] = tuple(keep)
    return table


Weighted = Iterable[tuple[str, float]]


def _ranked(names: Iterable[str], flatten: float = 12.0) -> Weighted:
    return ((n, 1.0 / (rank + flatten)) for rank, n in enumerate(names))


def _flat(names: Iterable[str]) -> Weighted:
    return ((n, 1.0) for n in names)


def _mix(*parts: tuple[Weighted, float]) -> Table[str]:
    """One table from several lists, each list contributing ``share`` of the draws."""
    pairs: list[tuple[str, float]] = []
    for items, share in parts:
        listed = list(items)
        total = sum(w for _, w in listed)
        pairs += [(name, share * w / total) for name, w in listed]
    return Table(pairs)


@cache
def name_bank() -> NameBank:
    # The frequency lists hold only the commonest names; real populations have a long tail
    # of rarer ones, here from faker's other English-speaking locales. Without it every
    # Smith would have several namesakes in town.
    countries = {
        "GB": _pool_tables(
            _mix((_ranked(GB.first_names_male), 0.78), (NZ.first_names_male.items(), 0.1),
                 (_flat(IE.first_names_male), 0.12)),
            _mix((_ranked(GB.first_names_female), 0.78), (NZ.first_names_female.items(), 0.1),
                 (_flat(IE.first_names_female), 0.12)),
            _mix((GB.last_names.items(), 0.5), (NZ.last_names.items(), 0.2),
                 (_flat(IE.last_names), 0.3)),
            "GB",
        ),
        "US": _pool_tables(
            _mix((US.first_names_male.items(), 0.8), (_flat(EN.first_names_male), 0.2)),
            _mix((US.first_names_female.items(), 0.8), (_flat(EN.first_names_female), 0.2)),
            _mix((US.last_names.items(), 0.6), (GB.last_names.items(), 0.15),
                 (_flat(IE.last_names), 0.25)),
            "US",
        ),
    }  # fmt: skip
    formal = sorted(
        {
            name
            for provider in (GB, US, NZ, IE)
            for name in (*provider.first_names_male, *provider.first_names_female)
        }
    )
    alikes: dict[str, tuple[str, ...]] = {}
    for group in SOUND_ALIKES:
        for name in group:
            alikes[name] = tuple(other for other in group if other != name)
    return NameBank(countries, _nickname_table(formal), alikes)
