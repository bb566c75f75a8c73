"""Writes feed_pipeline/data/labeled/: labeled postings of five job boards and each board's own taxonomy.

How the set is made (also in feed_pipeline/data/labeled/README.md): a seeded generator composes each posting
from the role catalogue in labeled_roles.py (a title variant as boards spell them, decorated with property
names, pay, schedule, urgency or shouting; an optional company intro; 3-5 duties; one sentence naming another
role the job works with; requirements; benefits; an EEO line; sometimes Spanish). The label is the board's
category for the role the posting was written from, the way a publisher files it; roles that publishers file
inconsistently (a lead maintenance technician, an assistant manager) get one of two labels at random, so the
set carries the disagreement a real board has; on the general board so do postings between two industries (a
data analyst at a hospital, IT support at a school district). The general board also carries vague postings
that name no job ("Team Member", "Join Our Team!"), labeled "(none)": no answer is right for them. Titles
and duties at list positions 2, 5, 8... are kept for the held-out split only.

    .venv/bin/python scripts/make_labeled_set.py           # rewrite the set
    .venv/bin/python scripts/make_labeled_set.py --check   # fail if the shipped set is not what this writes
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labeled_roles import CONCEPTS, Concept

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "feed_pipeline" / "data" / "labeled"
SEED = 20261129
HELDOUT_SHARE = 0.4
NO_LABEL = "(none)"  # a posting that names no job: no answer is right, so it can only count as a miss

# ------------------------------------------------------------------------------------------------ boards
# A board: its taxonomy (industries -> functions with the board's own descriptions), how many postings it has,
# and which concepts it carries with what weight and label. A label is (industry, function), or a list of
# ((industry, function), probability) when publishers file the role either way, or a list of
# (title substring, (industry, function)) rules ending with (None, default).
PM = "Property Management"
PM_TAXONOMY = {
    "name": PM,
    "description": "Jobs at apartment communities, residential and commercial properties and the companies that "
                   "manage them.",
    "functions": [
        ("Leasing", "Leasing consultants and leasing managers who tour prospects and sign leases."),
        ("Maintenance", "Maintenance and make-ready technicians who repair apartments and buildings."),
        ("Maintenance Supervisor",
         "Maintenance supervisors and service managers who run a property's maintenance team."),
        ("Groundskeeping, Porter & Housekeeping", "Porters, groundskeepers, housekeepers and custodians."),
        ("Property Management", "Community managers, property managers and assistant managers who run a property."),
        ("Regional Management", "Regional and district managers who oversee several properties."),
        ("Asset Management", "Asset managers and analysts who manage properties as investments."),
        ("Accounting & Compliance", "Property accounting, office administration and affordable-housing compliance."),
        ("Resident Services", "Resident services, lifestyle, events and concierge staff."),
        ("Corporate", "Corporate office roles: HR, recruiting, IT, marketing and training."),
    ],
}

BOARDS: dict[str, dict] = {
    "pm_board": {
        "about": "A property-management job board: one industry, ten categories of its own.",
        "taxonomy": [PM_TAXONOMY],
        "jobs": 700,
        "concepts": {
            "leasing": (20, (PM, "Leasing")),
            "maint_tech": (22, (PM, "Maintenance")),
            "maint_sup": (7, (PM, "Maintenance Supervisor")),
            "lead_tech": (3, [((PM, "Maintenance"), 0.5), ((PM, "Maintenance Supervisor"), 0.5)]),
            "grounds_porter": (9, (PM, "Groundskeeping, Porter & Housekeeping")),
            "housekeeping": (3, (PM, "Groundskeeping, Porter & Housekeeping")),
            "community_mgr": (9, (PM, "Property Management")),
            "assistant_mgr": (7, [((PM, "Property Management"), 0.8), ((PM, "Leasing"), 0.2)]),
            "regional": (3, (PM, "Regional Management")),
            "asset_mgmt": (2.5, (PM, "Asset Management")),
            "accounting": (3, (PM, "Accounting & Compliance")),
            "admin_compliance": (3, (PM, "Accounting & Compliance")),
            "resident_services": (3.5, (PM, "Resident Services")),
            "corporate_hr": (2, (PM, "Corporate")),
            "corporate_it": (1.5, (PM, "Corporate")),
            "corporate_marketing": (1.5, (PM, "Corporate")),
        },
    },
    "tech_board": {
        "about": "A technology job board: one industry, eight categories.",
        "taxonomy": [{
            "name": "Technology",
            "description": "Software, cloud, data and IT roles.",
            "functions": [
                ("Backend Engineering", "Engineers who build server-side services, APIs and databases."),
                ("Frontend & Mobile", "Engineers who build web interfaces and mobile apps."),
                ("Data & Machine Learning", "Data engineers, analysts, scientists and ML engineers."),
                ("DevOps & SRE", "Infrastructure, cloud, CI/CD and reliability engineers."),
                ("Security", "Security engineers and analysts."),
                ("QA & Test", "Testers and test automation engineers."),
                ("Product & Design", "Product managers, product owners and UX/product designers."),
                ("IT & Help Desk", "IT support, help desk and systems administration."),
            ],
        }],
        "jobs": 320,
        "concepts": {
            "backend": (20, ("Technology", "Backend Engineering")),
            "frontend": (14, ("Technology", "Frontend & Mobile")),
            "data": (14, ("Technology", "Data & Machine Learning")),
            "devops": (12, ("Technology", "DevOps & SRE")),
            "security": (8, ("Technology", "Security")),
            "qa": (7, ("Technology", "QA & Test")),
            "product": (10, ("Technology", "Product & Design")),
            "it_support": (10, ("Technology", "IT & Help Desk")),
        },
    },
    "health_board": {
        "about": "A healthcare job board: one industry, nine categories.",
        "taxonomy": [{
            "name": "Healthcare",
            "description": "Hospitals, clinics, home care and behavioral health providers.",
            "functions": [
                ("Registered Nursing", "Registered nurses in every setting."),
                ("Nursing Support", "CNAs, LPNs, patient care technicians and medical assistants."),
                ("Providers", "Physicians, nurse practitioners and physician assistants."),
                ("Therapy & Rehabilitation", "Physical, occupational, speech and respiratory therapists."),
                ("Pharmacy", "Pharmacists and pharmacy technicians."),
                ("Laboratory & Imaging", "Lab scientists, phlebotomists and imaging technologists."),
                ("Patient Access & Revenue Cycle", "Registration, scheduling, billing and coding."),
                ("Home Care", "Caregivers and home health aides."),
                ("Behavioral Health", "Counselors, therapists and social workers in mental health."),
            ],
        }],
        "jobs": 300,
        "concepts": {
            "rn": (22, ("Healthcare", "Registered Nursing")),
            "cna_lpn": (15, ("Healthcare", "Nursing Support")),
            "physician": (10, ("Healthcare", "Providers")),
            "therapy": (9, ("Healthcare", "Therapy & Rehabilitation")),
            "pharmacy": (7, ("Healthcare", "Pharmacy")),
            "lab_imaging": (9, ("Healthcare", "Laboratory & Imaging")),
            "front_office": (10, ("Healthcare", "Patient Access & Revenue Cycle")),
            "home_care": (9, ("Healthcare", "Home Care")),
            "behavioral": (8, ("Healthcare", "Behavioral Health")),
        },
    },
    "logistics_retail_board": {
        "about": "An hourly-jobs board with two industries: logistics and retail.",
        "taxonomy": [
            {"name": "Logistics", "description": "Trucking, delivery, warehousing and freight.", "functions": [
                ("CDL Drivers", "Truck drivers with a commercial license."),
                ("Delivery Drivers", "Local delivery and courier drivers."),
                ("Warehouse", "Warehouse, forklift and shipping roles."),
                ("Dispatch & Planning", "Dispatchers, planners and logistics coordinators."),
                ("Fleet Maintenance", "Diesel and fleet mechanics."),
            ]},
            {"name": "Retail", "description": "Stores and shops.", "functions": [
                ("Store Leadership", "Store, assistant and department managers."),
                ("Sales & Cashiers", "Sales associates and cashiers."),
                ("Stocking & Merchandising", "Stockers, receiving and visual merchandising."),
                ("Loss Prevention", "Loss prevention and asset protection."),
            ]},
        ],
        "jobs": 300,
        "concepts": {
            "truck_driver": (14, ("Logistics", "CDL Drivers")),
            "delivery": (12, ("Logistics", "Delivery Drivers")),
            "warehouse": (16, ("Logistics", "Warehouse")),
            "dispatch": (9, ("Logistics", "Dispatch & Planning")),
            "fleet_mech": (7, ("Logistics", "Fleet Maintenance")),
            "store_mgr": (12, ("Retail", "Store Leadership")),
            "sales_assoc": (16, ("Retail", "Sales & Cashiers")),
            "stocker": (10, ("Retail", "Stocking & Merchandising")),
            "loss_prev": (4, ("Retail", "Loss Prevention")),
        },
    },
    "general_board": {
        "about": "A general job board filed under the bundled taxonomy (feed_pipeline/data/taxonomy.json).",
        "taxonomy": "bundled",
        "jobs": 500,
        "concepts": {
            "leasing": (4, ("Real Estate", "Leasing")),
            "maint_tech": (4, ("Real Estate", "Maintenance Technicians")),
            "maint_sup": (2, ("Real Estate", "Maintenance Supervision")),
            "grounds_porter": (2, ("Real Estate", "Grounds, Porter & Housekeeping")),
            "community_mgr": (3, ("Real Estate", "Community & Property Management")),
            "regional": (1, ("Real Estate", "Regional & Portfolio Management")),
            "asset_mgmt": (1, ("Real Estate", "Asset Management & Investments")),
            "admin_compliance": (1, ("Real Estate", "Property Accounting, Admin & Compliance")),
            "resident_services": (1, ("Real Estate", "Resident Services")),
            "brokerage": (1.5, ("Real Estate", "Real Estate Brokerage & Sales")),
            "backend": (4, ("Technology", "Software Engineering")),
            "frontend": (2, ("Technology", "Software Engineering")),
            "data": (3, ("Technology", "Data & Analytics")),
            "devops": (3, ("Technology", "DevOps & Cloud Infrastructure")),
            "security": (1.5, ("Technology", "Cybersecurity")),
            "qa": (1, ("Technology", "Quality Assurance")),
            "it_support": (2, ("Technology", "IT Support")),
            "rn": (5, ("Healthcare", "Nursing")),
            "cna_lpn": (3, [("Medical Assistant", ("Healthcare", "Allied Health")), (None, ("Healthcare", "Nursing"))]),
            "physician": (2, ("Healthcare", "Physicians & Advanced Practice")),
            "therapy": (2, ("Healthcare", "Allied Health")),
            "lab_imaging": (2, ("Healthcare", "Allied Health")),
            "front_office": (2, ("Healthcare", "Healthcare Administration")),
            "home_care": (2, ("Healthcare", "Home & Personal Care")),
            "truck_driver": (3, ("Transportation & Logistics", "Truck Driving")),
            "delivery": (2, ("Transportation & Logistics", "Delivery & Courier")),
            "warehouse": (4, ("Transportation & Logistics", "Warehouse Operations")),
            "dispatch": (2, ("Transportation & Logistics", "Logistics Coordination")),
            "store_mgr": (2, ("Retail", "Store Management")),
            "sales_assoc": (3, ("Retail", "Sales Associate")),
            "stocker": (2, [("Visual", ("Retail", "Merchandising")), (None, ("Retail", "Inventory & Stock"))]),
            "teacher": (3, [("Preschool", ("Education", "Early Childhood")), (None, ("Education", "Teaching"))]),
            "cook": (2, [("Kitchen Manager", ("Hospitality & Food Service", "Hospitality Management")),
                         (None, ("Hospitality & Food Service", "Culinary"))]),
            "server": (2, ("Hospitality & Food Service", "Front of House")),
            "accountant": (3, ("Finance & Banking", "Accounting")),
            "fin_analyst": (1.5, ("Finance & Banking", "Financial Analysis")),
            "teller": (2, ("Finance & Banking", "Banking Operations")),
            "recruiter": (2, [("HR ", ("Staffing & Human Resources", "HR Generalist & Business Partner")),
                              (None, ("Staffing & Human Resources", "Recruiting"))]),
            "legal": (2, [("Attorney", ("Legal", "Attorneys")), ("Counsel", ("Legal", "Attorneys")),
                          (None, ("Legal", "Paralegal & Legal Support"))]),
            "electrician": (2, ("Construction", "Construction Trades")),
            "construction_pm": (1.5, ("Construction", "Construction Management")),
            "machinist": (3, [("Industrial Maintenance", ("Manufacturing", "Industrial Maintenance & Trades")),
                              ("CNC", ("Manufacturing", "Industrial Maintenance & Trades")),
                              ("Welder", ("Manufacturing", "Industrial Maintenance & Trades")),
                              (None, ("Manufacturing", "Production & Assembly"))]),
            "claims": (2, [("Claims", ("Insurance", "Claims")), ("Underwriter", ("Insurance", "Underwriting")),
                           (None, ("Insurance", "Insurance Sales & Service"))]),
            "marketing": (2, [("Designer", ("Marketing & Advertising", "Creative & Design")),
                              ("Content", ("Marketing & Advertising", "Content & Communications")),
                              (None, ("Marketing & Advertising", "Digital Marketing"))]),
            "social_work": (2, [("Grant", ("Nonprofit & Social Services", "Fundraising & Development")),
                                ("Program", ("Nonprofit & Social Services", "Program Coordination")),
                                (None, ("Nonprofit & Social Services", "Case Management & Social Work"))]),
            "vague": (6, (NO_LABEL, NO_LABEL)),
            "hospital_data": (1.5, [(("Healthcare", "Healthcare Administration"), 0.5),
                                    (("Technology", "Data & Analytics"), 0.5)]),
            "school_it": (1.5, [(("Education", "Education Administration"), 0.5), (("Technology", "IT Support"), 0.5)]),
            "hotel_payroll": (1.5, [(("Hospitality & Food Service", "Hospitality Management"), 0.5),
                                    (("Staffing & Human Resources", "Payroll & Benefits"), 0.5)]),
            "bank_marketing": (1.5, [(("Marketing & Advertising", "Content & Communications"), 0.6),
                                     (("Finance & Banking", "Banking Operations"), 0.4)]),
            "auto_tech": (2, [("Sales", ("Automotive", "Dealership Sales")),
                              ("Collision", ("Automotive", "Collision & Body Repair")),
                              (None, ("Automotive", "Automotive Service"))]),
        },
    },
}

# ------------------------------------------------------------------------------------------------ text parts
COMPANIES = {
    "property": ["Prometheus Real Estate Group", "Lincoln Ridge Residential", "Sparrow Living",
                 "Bell Harbor Communities",
                 "Summit Oak Property Management", "Alliance Crest Residential", "Mosaic Apartment Homes",
                 "Trinity Park Residential", "Cascade Living Partners", "Willow Bend Management",
                 "Northstar Multifamily", "Harborview Property Services", "Oakmont Residential Group"],
    "tech": ["Nimbus Labs", "Quantal Systems", "Brightpath Software", "Lattice Data", "Orbitly",
             "Prometheus Analytics"],
    "health": ["St. Mary Medical Center", "Valley Health System", "CareFirst Home Health", "Riverbend Clinic",
               "Northside Behavioral Health", "Summit Pharmacy Group"],
    "logistics": ["Redline Freight", "SwiftRoute Logistics", "Keystone Distribution", "Mile High Couriers"],
    "retail": ["Brightmart", "Urban Threads", "HomeGoods Depot", "Corner Market Co."],
    "general": ["Acme Corp", "Lakeside Unified School District", "Harbor Bistro Group", "First Prairie Bank",
                "Keller & Stone LLP", "Titan Builders", "Precision Parts Inc.", "Guardian Mutual Insurance",
                "Blue Fern Marketing", "Hope Community Services", "Metro Auto Group"],
}
PROPERTIES = ["The Residences at Cypress Creek", "Arbor Pointe Apartments", "Villas at Stone Oak", "The Lofts on Main",
              "Parkside Commons", "Heritage Senior Living", "Lakeview Townhomes", "The Grove at Sparks",
              "Maple Court (Affordable)", "Riverwalk Student Living", "Solana Ridge", "The Madison"]
CITIES = [("Sparks", "NV"), ("Reno", "NV"), ("Austin", "TX"), ("Dallas", "TX"), ("Houston", "TX"), ("Phoenix", "AZ"),
          ("Denver", "CO"), ("Atlanta", "GA"), ("Charlotte", "NC"), ("Tampa", "FL"), ("Orlando", "FL"),
          ("Nashville", "TN"), ("Columbus", "OH"), ("Seattle", "WA"), ("Salt Lake City", "UT"), ("Asset", "AR")]
INTROS = {
    "property": ["{company} manages more than {n},000 apartment homes across the Southwest and is hiring at {prop}.",
                 "At {company}, we create communities people are proud to call home.",
                 "{company} is a vertically integrated multifamily owner and operator.",
                 "Join {company}, a residential property management company recognized as a Great Place to Work."],
    "tech": ["{company} builds cloud software used by {n},000 teams.", "{company} is a fast-growing SaaS startup."],
    "health": ["{company} is a not-for-profit health system serving the region.",
               "{company} provides compassionate care in the community."],
    "logistics": ["{company} moves freight for the country's biggest retailers."],
    "retail": ["{company} operates {n}0 stores nationwide."],
    "general": ["{company} is growing and hiring.", "Join the team at {company}."],
}
CROSS = ["You will work closely with the {other} and the rest of the team.",
         "This role partners with our {other} every day.",
         "Reports to the {other}.",
         "Our {other} will support your onboarding."]
BENEFITS = ["Medical, dental and vision; 401(k) with match; paid time off.",
            "Benefits include health insurance, PTO, paid holidays and tuition assistance.",
            "Competitive pay, bonuses and career growth."]
PROPERTY_PERKS = ["20% rent discount at any of our communities.", "Housing discount and on-site perks.",
                  "Renewal and leasing commissions paid monthly."]
EEO = ["{company} is an Equal Opportunity Employer: all qualified applicants receive consideration without regard "
       "to race, color, religion, sex, national origin, disability or veteran status.",
       "We are proud to be an equal opportunity employer and a drug-free workplace.",
       "EOE/M/F/D/V. Background check and drug screen required."]
SPANISH = ["¡Se habla español!", "Bilingüe (inglés/español) preferido.", "Aplique hoy mismo."]


def variants(items: tuple[str, ...], heldout: bool) -> list[str]:
    """Held-out draws from every variant; dev never sees those at positions 2, 5, 8..."""
    return list(items) if heldout else [x for i, x in enumerate(items) if i % 3 != 2]


def decorate_title(rng: random.Random, title: str, sector: str, city: tuple[str, str]) -> str:
    roll = rng.random()
    if sector == "property" and roll < 0.25:
        title = f"{title} - {rng.choice(PROPERTIES)}"
    elif roll < 0.35:
        title = f"{title} ({rng.choice(['$18-$22/hr', '$55K-$65K', 'Full Time', 'Part Time', 'Weekends'])})"
    elif roll < 0.42:
        title = f"{title} | {city[0]}, {city[1]}"
    elif roll < 0.46:
        title = f"NOW HIRING: {title}"
    elif roll < 0.49:
        title = f"{title} - $1,000 Sign-On Bonus!"
    if rng.random() < 0.05:
        title = title.upper()
    return title


def label_for(rng: random.Random, rule, title: str) -> tuple[str, str]:
    if isinstance(rule, tuple):
        return rule
    if isinstance(rule[0][1], float):
        roll, acc = rng.random(), 0.0
        for label, p in rule:
            acc += p
            if roll < acc:
                return label
        return rule[-1][0]
    for needle, label in rule:
        if needle is None or needle in title:
            return label
    raise ValueError(f"no label rule matched {title!r}")


def posting(rng: random.Random, concept: Concept, others: list[Concept], heldout: bool) -> dict:
    city = rng.choice(CITIES)
    company = rng.choice(COMPANIES[concept.sector])
    base_title = rng.choice(variants(concept.titles, heldout))
    parts = []
    if rng.random() < 0.7:
        parts.append(rng.choice(INTROS[concept.sector]).format(
            company=company, n=rng.randint(2, 90), prop=rng.choice(PROPERTIES)))
    role = base_title.split(' - ')[0].split(' (')[0]
    parts.append(f"We are looking for a {role} to join our team in {city[0]}, {city[1]}.")
    duties = variants(concept.duties, heldout)
    parts += rng.sample(duties, k=min(len(duties), rng.randint(2, 5)))
    if others and rng.random() < 0.6:
        other = rng.choice(others)
        parts.append(rng.choice(CROSS).format(other=rng.choice(variants(other.titles, heldout))))
    reqs = variants(concept.requirements, heldout) or list(concept.requirements)
    parts += rng.sample(reqs, k=min(len(reqs), rng.randint(1, 3)))
    parts.append(rng.choice(BENEFITS))
    if concept.sector == "property" and rng.random() < 0.5:
        parts.append(rng.choice(PROPERTY_PERKS))
    if rng.random() < 0.15:
        parts.append(rng.choice(SPANISH))
    parts.append(rng.choice(EEO).format(company=company))
    if rng.random() < 0.4:  # HTML, as many feeds send it
        description = "".join(f"<p>{p}</p>" for p in parts)
    else:
        description = " ".join(parts)
    return {"title": decorate_title(rng, base_title, concept.sector, city), "company": company,
            "location": f"{city[0]}, {city[1]}", "description": description, "base_title": base_title}


def taxonomy_json(board: str, spec: dict, names_only: bool = False) -> dict:
    return {
        "version": f"labeled-{board}",
        "about": spec["about"],
        "industries": [
            {"name": ind["name"], **({} if names_only else {"description": ind["description"]}),
             "functions": [{"name": n, **({} if names_only else {"description": d})} for n, d in ind["functions"]]}
            for ind in spec["taxonomy"]
        ],
    }


def generate() -> dict[str, str]:
    files: dict[str, str] = {}
    for board, spec in BOARDS.items():
        rng = random.Random(f"{SEED}-{board}")
        names = list(spec["concepts"])
        weights = [spec["concepts"][n][0] for n in names]
        rows = []
        for index in range(spec["jobs"]):
            heldout = index % 5 < HELDOUT_SHARE * 5
            concept_name = rng.choices(names, weights)[0]
            concept = CONCEPTS[concept_name]
            others = [CONCEPTS[n] for n in names if n != concept_name and CONCEPTS[n].sector == concept.sector]
            job = posting(rng, concept, others, heldout)
            industry, function = label_for(rng, spec["concepts"][concept_name][1], job.pop("base_title"))
            rows.append({"id": f"{board}-{index:04d}", "board": board, "split": "heldout" if heldout else "dev",
                         **job, "industry": industry, "function": function})
        files[f"{board}.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if spec["taxonomy"] != "bundled":
            text = json.dumps(taxonomy_json(board, spec), indent=2, ensure_ascii=False)
            files[f"taxonomies/{board}.json"] = text + "\n"
    files["taxonomies/pm_board_names_only.json"] = json.dumps(
        taxonomy_json("pm_board_names_only", BOARDS["pm_board"], names_only=True), indent=2) + "\n"
    files["boards.json"] = json.dumps({
        board: {"taxonomy": "bundled" if spec["taxonomy"] == "bundled" else f"taxonomies/{board}.json",
                "jobs": f"{board}.jsonl", "about": spec["about"]}
        for board, spec in BOARDS.items()
    }, indent=2) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the shipped files differ")
    args = parser.parse_args()
    files = generate()
    stale = []
    for name, text in files.items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run scripts/make_labeled_set.py", file=sys.stderr)
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(files)} files under {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
