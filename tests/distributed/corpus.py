"""A small synthetic newsroom corpus for the distributed tests and the benchmark (our own sentences).

Each incident has one or two reports from different outlets (the second reworded, as a syndicated
or follow-up story would be); a few articles report no incident at all. Articles are dicts in the
newsroom simulator's corpus format ``{id, url, source, published, title, text}``.
"""
from __future__ import annotations

import datetime as dt

# town, police force id: one incident per town, so linking does not depend on arrival order
PLACES = [
    ("Wigan", "greater-manchester"), ("Oakham", "leicestershire"), ("Leeds", "west-yorkshire"),
    ("Cardiff", "south-wales"), ("Preston", "lancashire"), ("Norwich", "norfolk"), ("Exeter", "devon-and-cornwall"),
    ("Chester", "cheshire"), ("Hull", "humberside"), ("Lincoln", "lincolnshire"), ("Bolton", "greater-manchester"),
    ("Carlisle", "cumbria"), ("Swindon", "wiltshire"), ("Reading", "thames-valley"), ("Ipswich", "suffolk"),
    ("Durham", "durham"), ("Derby", "derbyshire"), ("Stafford", "staffordshire"), ("Worcester", "west-mercia"),
    ("Gloucester", "gloucestershire"), ("Bedford", "bedfordshire"), ("Maidstone", "kent"),
    ("Sunderland", "northumbria"), ("Wrexham", "north-wales"),
]

FIRST = {
    "atm_explosive": ("Cash machine blown apart in {town} overnight",
                      "Police in {town} are appealing for witnesses after a gang used explosives to blow open a cash "
                      "machine at a {shop} on {street} in the early hours of {day}. Officers were called at about 3am "
                      "after residents reported a loud bang. The front of the shop was badly damaged and the road was "
                      "closed for several hours while the scene was made safe. Nobody was hurt."),
    "atm_theft": ("Thieves rip cash machine from {town} store wall with digger",
                  "A cash machine was torn out of the wall of a {shop} on {street} in {town} on {day} by thieves "
                  "using a stolen digger. The ATM was loaded onto a pickup truck which drove off at speed, and the "
                  "digger was abandoned at the scene. Detectives have asked anyone with dashcam footage to come forward."),
    "atm_break_in": ("Cash machine cut open and cassettes taken in {town}",
                     "Criminals cut open a cash machine at a {shop} on {street} in {town} on {day} and made off with "
                     "the cash cassettes. Police said the offenders used power tools to force the safe of the ATM "
                     "before fleeing in a dark coloured car. An investigation is under way."),
    "cit_robbery": ("Security guard robbed of cash box in {town}",
                    "A security guard delivering cash to a {shop} on {street} in {town} was threatened and robbed of a "
                    "cash box on {day}. Two men on a moped approached the guard as he walked from the security van, "
                    "snatched the box and rode off. Police are hunting the pair."),
}
SECOND = ("Appeal after {what} in {town}",
          "Detectives investigating the {what} at a {shop} in {town} on {day} have renewed their appeal for "
          "information. The incident happened on {street}. Police said enquiries were continuing and urged anyone who "
          "saw suspicious vehicles nearby to get in touch.")
WHAT = {"atm_explosive": "cash machine explosion", "atm_theft": "cash machine theft",
        "atm_break_in": "cash machine break-in", "cit_robbery": "robbery of a security guard"}
OTHER = [
    ("Council debates new bus lane on {street}",
     "Councillors in {town} met on {day} to discuss plans for a bus lane on {street}. Residents raised concerns "
     "about parking and deliveries to shops. A decision is expected next month."),
    ("Free cash machine closes in {town} village",
     "Villagers in {town} say they will have to travel further for cash after the free cash machine at the {shop} "
     "was removed because of low use. The operator said fees and falling demand made it uneconomic."),
]
SHOPS = ["Co-op", "Spar shop", "convenience store", "petrol station", "Post Office"]
STREETS = ["High Street", "Station Road", "Church Lane", "Market Street", "Mill Road"]
TYPES = ["atm_explosive", "atm_theft", "atm_break_in", "cit_robbery"]


def make_corpus(n_incidents: int = 12, *, second_report_every: int = 3, others: int = 2, seed_day: int = 3,
                tag: str = "") -> tuple[list[dict], dict[str, tuple[str, str, str]]]:
    """``(articles, truth)``: ``truth`` maps each article id reporting an incident to (type, town, force)."""
    articles: list[dict] = []
    truth: dict[str, tuple[str, str, str]] = {}
    base = dt.date(2026, 11, seed_day)
    for i in range(n_incidents):
        town, force = PLACES[i % len(PLACES)]
        typ = TYPES[i % len(TYPES)]
        day = base + dt.timedelta(days=i // len(PLACES))
        fields = {"town": town, "shop": SHOPS[i % len(SHOPS)], "street": STREETS[(i // 2) % len(STREETS)],
                  "day": day.strftime("%A %d %B"), "what": WHAT[typ]}
        title, text = FIRST[typ]
        aid = f"{tag}inc{i:03d}a"
        articles.append({"id": aid, "url": f"https://gazette-{i % 3}.example/news/{aid}", "source": f"gazette-{i % 3}.example",
                         "published": day.isoformat(), "title": title.format(**fields), "text": text.format(**fields)})
        truth[aid] = (typ, town, force)
        if second_report_every and i % second_report_every == 0:
            title2, text2 = SECOND
            aid2 = f"{tag}inc{i:03d}b"
            articles.append({"id": aid2, "url": f"https://herald-{i % 2}.example/news/{aid2}", "source": f"herald-{i % 2}.example",
                             "published": (day + dt.timedelta(days=1)).isoformat(),
                             "title": title2.format(**fields), "text": text2.format(**fields)})
            truth[aid2] = (typ, town, force)
    for j in range(others):
        town, _ = PLACES[(j * 5) % len(PLACES)]
        title, text = OTHER[j % len(OTHER)]
        fields = {"town": town, "shop": SHOPS[j % len(SHOPS)], "street": STREETS[j % len(STREETS)],
                  "day": base.strftime("%A %d %B")}
        aid = f"{tag}other{j:02d}"
        articles.append({"id": aid, "url": f"https://gazette-0.example/news/{aid}", "source": "gazette-0.example",
                         "published": base.isoformat(), "title": title.format(**fields), "text": text.format(**fields)})
    return articles, truth
