"""Writes feed_pipeline/data/sample_feed.xml: a deterministic Indeed-style feed for `make run`, demos and tests.

The feed is shaped to exercise every route with the offline classifier: clear postings (approved), postings
that straddle two industries or functions (manual review), vague postings that match nothing (archived),
CLOSED postings in several spellings, a few expired ones, and multi-location roles (same requisitionid,
title, company and jobtype; different city and referencenumber; same or lightly edited description).

    .venv/bin/python scripts/make_sample_feed.py            # rewrite the bundled feed and print its routes
    .venv/bin/python scripts/make_sample_feed.py --check    # fail if the bundled feed is not what this writes
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "feed_pipeline" / "data" / "sample_feed.xml"
SEED = 20260301
APPROVE_AT, ARCHIVE_BELOW = 0.86, 0.5  # the routing thresholds of DESIGN.md, used only for the printed summary

CITIES = [
    ("Austin", "TX", "78701"), ("Dallas", "TX", "75201"), ("Houston", "TX", "77002"), ("Denver", "CO", "80202"),
    ("Phoenix", "AZ", "85004"), ("Seattle", "WA", "98101"), ("Portland", "OR", "97204"), ("Chicago", "IL", "60601"),
    ("Columbus", "OH", "43215"), ("Atlanta", "GA", "30303"), ("Charlotte", "NC", "28202"), ("Nashville", "TN", "37203"),
    ("Boston", "MA", "02108"), ("Philadelphia", "PA", "19103"), ("Pittsburgh", "PA", "15222"),
    ("Minneapolis", "MN", "55402"),
    ("Kansas City", "MO", "64105"), ("Salt Lake City", "UT", "84111"), ("San Diego", "CA", "92101"),
    ("Sacramento", "CA", "95814"), ("Raleigh", "NC", "27601"), ("Tampa", "FL", "33602"), ("Orlando", "FL", "32801"),
    ("Indianapolis", "IN", "46204"), ("Milwaukee", "WI", "53202"), ("Omaha", "NE", "68102"), ("Boise", "ID", "83702"),
    ("Richmond", "VA", "23219"), ("Albuquerque", "NM", "87102"), ("Louisville", "KY", "40202"),
]

BENEFITS = [
    "Medical, dental and vision plans, a 401(k) with company match and paid time off.",
    "Comprehensive benefits: health, dental and vision plans; 401(k); tuition reimbursement; paid holidays.",
    "Benefits start on day one: health plans, life and disability cover, retirement savings and PTO.",
]
EEO = [
    "{company} is an equal opportunity employer and values diversity at every level.",
    "{company} is proud to be an Equal Opportunity Employer. All qualified applicants will receive consideration.",
]


@dataclass
class Role:
    """One kind of posting: how its title, company and text vary, and what routing it is written to get."""

    industry: str
    function: str
    titles: list[str]
    companies: list[str]
    intro: str
    duties: list[str]
    requirements: list[str]
    pay: tuple[float, float, str]
    category: str
    kind: str = "clear"  # clear | ambiguous | vague
    jobtypes: list[str] = field(default_factory=lambda: ["fulltime"])
    count: int = 6
    remote: str | None = None


ROLES: list[Role] = [
    # ---------------------------------------------------------------- Technology
    Role("Technology", "Software Engineering",
         ["Software Engineer", "Senior Software Engineer", "Backend Software Engineer", "Full Stack Software Developer",
          "Sr. Software Engineer - Backend"],
         ["Brightwave Software", "Nimbus Cloud Labs", "Quanta SaaS"],
         "{company}, a SaaS company building a cloud platform for logistics teams, is hiring a {title} to design "
         "backend services and APIs. You will write production code, take part in code review and ship features "
         "across our full stack every week.",
         ["Design and build scalable services and REST APIs in Python and TypeScript",
          "Own features end to end across backend and frontend",
          "Take part in code review and pair programming", "Improve reliability of our microservices"],
         ["3+ years of professional software development experience", "Strong Python, Java or Go skills",
          "Experience with PostgreSQL, Redis and Docker", "Comfort working on AWS"],
         (120000, 185000, "year"), "Information Technology", count=10, remote="hybrid"),
    Role("Technology", "DevOps & Cloud Infrastructure",
         ["DevOps Engineer", "Site Reliability Engineer", "Cloud Platform Engineer", "Senior DevOps Engineer (Remote)"],
         ["Nimbus Cloud Labs", "Stackline Software", "Quanta SaaS"],
         "{company} is looking for a {title} to run the cloud infrastructure behind our SaaS platform. You will "
         "manage Kubernetes clusters, write infrastructure as code in Terraform and keep our CI/CD pipelines fast.",
         ["Operate Kubernetes clusters on AWS and GCP", "Automate infrastructure as code with Terraform and Ansible",
          "Build observability with Prometheus and Grafana", "Join the on-call rotation and run incident reviews"],
         ["Experience as a DevOps or site reliability engineer", "Linux, Docker and Kubernetes in production",
          "Scripting in Python or Bash", "Experience with GitHub Actions or Jenkins"],
         (130000, 190000, "year"), "Information Technology", count=9, remote="remote"),
    Role("Technology", "Data & Analytics",
         ["Data Engineer", "Senior Data Engineer", "Analytics Engineer", "Data Scientist"],
         ["Quanta SaaS", "Brightwave Software", "Lumen Analytics"],
         "{company}, a software company, needs a {title} to build data pipelines and the data warehouse behind our "
         "analytics product. You will model data, run ETL jobs in Airflow and support machine learning work.",
         ["Build batch and streaming data pipelines with Airflow, Spark and Kafka",
          "Model the data warehouse in Snowflake and dbt", "Partner with analysts on dashboards and metrics",
          "Keep ETL jobs reliable and well tested"],
         ["Strong SQL and Python", "Experience with a cloud data warehouse such as Snowflake or BigQuery",
          "Familiarity with machine learning workflows"],
         (115000, 175000, "year"), "Information Technology", count=8, remote="remote"),
    Role("Technology", "IT Support",
         ["IT Support Specialist", "Help Desk Technician", "Desktop Support Technician", "Service Desk Analyst"],
         ["Stackline Software", "Corvid Tech Services", "Brightwave Software"],
         "{company} is hiring an {title} for our IT department. You will run the help desk, handle desktop support "
         "tickets and do hands-on troubleshooting for end users across the company.",
         ["Resolve help desk tickets in ServiceNow and Jira", "Set up laptops, accounts and Active Directory groups",
          "Troubleshoot network, printer and software issues for end users"],
         ["1-2 years of technical support or service desk experience", "CompTIA A+ a plus",
          "Patience and clear communication skills"],
         (48000, 65000, "year"), "Information Technology", count=6),
    Role("Technology", "Cybersecurity",
         ["Security Engineer", "SOC Analyst", "Information Security Analyst"],
         ["Ironclad Cyber", "Corvid Tech Services"],
         "{company}, a cybersecurity software company, is hiring a {title} to strengthen information security across "
         "our cloud platform. You will lead incident response, tune the SIEM and run vulnerability management.",
         ["Monitor alerts in Splunk and drive threat detection", "Run penetration testing and vulnerability management",
          "Lead incident response and write post-incident reports"],
         ["3+ years in a security engineer or SOC analyst role", "Experience with a SIEM such as Splunk",
          "Security+ or CISSP preferred"],
         (110000, 160000, "year"), "Information Technology", count=5, remote="hybrid"),
    Role("Technology", "Product Management",
         ["Product Manager", "Senior Product Manager", "Technical Product Owner"],
         ["Quanta SaaS", "Lumen Analytics"],
         "{company} is hiring a {title} to own the product roadmap of our SaaS platform. You will run product "
         "discovery and user research, set the product strategy and drive feature prioritization with engineering.",
         ["Own the product roadmap and product strategy", "Run user research and product discovery",
          "Write clear requirements with the engineering team"],
         ["3+ years as a product manager in software", "Experience with Jira and agile delivery"],
         (125000, 170000, "year"), "Information Technology", count=5, remote="remote"),
    Role("Technology", "Quality Assurance",
         ["QA Engineer", "SDET", "QA Automation Engineer"],
         ["Brightwave Software", "Stackline Software"],
         "{company}, a software company, is hiring a {title} to lead test automation for our SaaS platform. You will "
         "write automated tests, maintain regression testing suites and own software testing in our releases.",
         ["Write test cases and automated tests with Selenium, Cypress and pytest",
          "Own regression testing before each release", "Report defects in Jira"],
         ["2+ years in software testing or as a QA engineer", "Programming skills in Python or JavaScript"],
         (85000, 125000, "year"), "Information Technology", count=4),
    # ---------------------------------------------------------------- Healthcare
    Role("Healthcare", "Nursing",
         ["Registered Nurse - ICU", "Registered Nurse (RN) - Med-Surg", "Charge Nurse - Telemetry", "RN - ICU Nights",
          "Registered Nurse"],
         ["St. Brigid Medical Center", "Valley Health System", "Riverside Hospital"],
         "{company}, an acute care hospital, is hiring a {title} to join our care team. You will deliver bedside "
         "patient care as a registered nurse, administer medications and monitor telemetry in a busy nursing unit.",
         ["Assess patients and deliver bedside patient care", "Administer medications and document in Epic EHR",
          "Coordinate with physicians and the nursing care team"],
         ["Active RN nursing license in the state", "BSN preferred; BLS and ACLS required",
          "1+ year of ICU or med-surg nursing experience"],
         (38, 58, "hour"), "Healthcare", count=12, jobtypes=["fulltime", "parttime", "fulltime, parttime"]),
    Role("Healthcare", "Allied Health",
         ["Medical Assistant", "Certified Medical Assistant", "Phlebotomist", "Respiratory Therapist"],
         ["Valley Health System", "Cedar Family Clinic", "Riverside Hospital"],
         "{company}, a busy outpatient clinic, is hiring a {title}. As a medical assistant you will room patients, "
         "take vital signs and perform phlebotomy for the care team.",
         ["Room patients and record vital signs", "Perform phlebotomy and point-of-care tests",
          "Prepare exam rooms and assist providers"],
         ["Medical assistant certificate or phlebotomy certification", "BLS certification",
          "Knowledge of medical terminology"],
         (19, 26, "hour"), "Healthcare", count=8, jobtypes=["fulltime", "parttime"]),
    Role("Healthcare", "Healthcare Administration",
         ["Medical Billing Specialist", "Medical Coder", "Patient Access Representative"],
         ["Valley Health System", "Cedar Family Clinic"],
         "{company}, a regional health system, is hiring a {title} for our revenue cycle team. You will handle "
         "medical billing and medical coding, insurance verification and patient access for the clinic.",
         ["Code visits with ICD-10 and CPT for medical billing", "Handle insurance verification and patient access",
          "Work denials in our revenue cycle system"],
         ["CPC or CCS certification preferred", "Experience with Epic EHR", "Knowledge of medical terminology"],
         (20, 28, "hour"), "Healthcare", count=6),
    Role("Healthcare", "Home & Personal Care",
         ["Caregiver", "Home Health Aide", "Certified Nursing Assistant (CNA)"],
         ["Comfort Home Care", "Golden Years Home Health"],
         "{company}, a home care provider, is hiring a {title} to support clients at home. As a caregiver you will "
         "help with activities of daily living, personal care and companionship.",
         ["Help clients with activities of daily living and personal care", "Provide companionship and light housework",
          "Report changes in condition to the care team"],
         ["CNA or home health aide certificate preferred", "CPR certification", "Reliable transportation"],
         (16, 21, "hour"), "Healthcare", count=7, jobtypes=["parttime", "fulltime, parttime"]),
    # ---------------------------------------------------------------- Finance
    Role("Finance & Banking", "Accounting",
         ["Staff Accountant", "Senior Accountant", "Accounts Payable Specialist", "Bookkeeper"],
         ["Harbor Federal Credit Union", "Summit Financial Group", "Keystone Bank"],
         "{company}, a community bank, is hiring a {title} for our accounting team. You will own the general "
         "ledger, accounts payable and reconciliation, post journal entries and support the month-end close.",
         ["Post journal entries and maintain the general ledger", "Prepare account reconciliation schedules",
          "Process accounts payable and accounts receivable", "Support month-end close and audits"],
         ["Bachelor's degree in accounting; CPA a plus", "Experience with QuickBooks or NetSuite",
          "Advanced Microsoft Excel"],
         (62000, 88000, "year"), "Accounting/Finance", count=9),
    Role("Finance & Banking", "Banking Operations",
         ["Bank Teller", "Personal Banker", "Loan Officer"],
         ["Keystone Bank", "Harbor Federal Credit Union"],
         "{company}, a community bank and credit union partner, is hiring a {title} for our branch. You will handle "
         "cash handling and deposits, open accounts and support branch operations.",
         ["Process deposits, withdrawals and loan payments", "Balance your cash drawer daily",
          "Refer customers to banking products"],
         ["Cash handling experience", "Strong customer service skills"],
         (17, 22, "hour"), "Banking", count=7, jobtypes=["fulltime", "parttime"]),
    Role("Finance & Banking", "Financial Analysis",
         ["Financial Analyst", "Senior FP&A Analyst"],
         ["Summit Financial Group", "Keystone Bank"],
         "{company}, a financial services firm, is hiring a {title} to lead budgeting and forecasting. You will "
         "build financial modeling for FP&A, run variance analysis and support financial planning.",
         ["Build the annual budgeting and forecasting models", "Run monthly variance analysis",
          "Present financial planning insights to leadership"],
         ["3+ years in FP&A or as a financial analyst", "Advanced Microsoft Excel and financial modeling"],
         (80000, 115000, "year"), "Accounting/Finance", count=5),
    # ---------------------------------------------------------------- Insurance
    Role("Insurance", "Claims",
         ["Claims Adjuster", "Property Claims Adjuster", "Claims Examiner"],
         ["Bluestone Insurance Company", "Prairie Mutual Insurance Company"],
         "{company}, a property and casualty insurance carrier, is hiring a {title}. You will investigate claim "
         "files, inspect losses and handle claims processing for our policyholders.",
         ["Investigate claim files and loss reports", "Set reserves and negotiate settlements",
          "Communicate with policyholders from first notice of loss to closure"],
         ["Adjuster license or ability to obtain one", "2+ years of claims processing experience"],
         (58000, 78000, "year"), "Insurance", count=7),
    Role("Insurance", "Underwriting",
         ["Commercial Lines Underwriter", "Underwriter", "Senior Underwriter"],
         ["Bluestone Insurance Company", "Prairie Mutual Insurance Company"],
         "{company}, an insurance company, is hiring a {title}. You will evaluate commercial lines submissions, "
         "handle underwriting and risk selection and set policy pricing for our insurance products.",
         ["Review submissions and make underwriting decisions", "Own risk selection and policy pricing",
          "Partner with agents on insurance coverage options"],
         ["3+ years of commercial lines underwriting", "CPCU or progress toward it"],
         (75000, 110000, "year"), "Insurance", count=5),
    # ---------------------------------------------------------------- Education
    Role("Education", "Teaching",
         ["Elementary Teacher", "High School Math Teacher", "Science Teacher", "ESL Teacher"],
         ["Lakeside School District", "Maple Grove Charter School", "Northfield School District"],
         "{company} is hiring a {title} for the coming school year. You will plan lessons, teach students in a "
         "K-12 classroom and follow our curriculum with strong classroom management.",
         ["Write lesson plans aligned to the curriculum", "Teach and assess students",
          "Communicate with families and the school team"],
         ["State teaching certificate", "Bachelor's degree in education or the subject",
          "Strong classroom management"],
         (48000, 68000, "year"), "Education", count=10),
    Role("Education", "Early Childhood",
         ["Preschool Teacher", "Daycare Teacher", "Early Childhood Educator"],
         ["Little Sprouts Early Learning", "Bright Steps Childcare"],
         "{company}, an early childhood center, is hiring a {title}. You will lead a preschool classroom for "
         "infant, toddler and pre-K students and follow our early childhood curriculum.",
         ["Plan daily activities for a preschool classroom", "Support infant and toddler development",
          "Keep the childcare classroom safe and clean"],
         ["CDA or degree in early childhood education", "CPR and first aid certification"],
         (15, 20, "hour"), "Education", count=6, jobtypes=["fulltime", "parttime"]),
    # ---------------------------------------------------------------- Retail
    Role("Retail", "Sales Associate",
         ["Retail Sales Associate", "Cashier", "Sales Associate - Part Time"],
         ["Northwind Outfitters", "Cobalt Home Store", "Peak Sporting Goods"],
         "{company}, a specialty retailer, is hiring a {title} for our store. You will help shoppers on the sales "
         "floor, run the cash register at checkout and share product knowledge as a sales associate.",
         ["Greet shoppers and help them on the sales floor", "Run the cash register and point of sale",
          "Keep merchandise neat and stocked"],
         ["Retail or customer service experience a plus", "Weekend availability"],
         (15, 18, "hour"), "Retail", count=10, jobtypes=["parttime", "fulltime, parttime"]),
    Role("Retail", "Store Management",
         ["Store Manager", "Assistant Store Manager", "Retail Shift Supervisor"],
         ["Northwind Outfitters", "Cobalt Home Store"],
         "{company}, a retailer with 200 stores, is hiring a {title}. You will lead the store team, run store "
         "operations including opening and closing, and hit sales goals.",
         ["Lead and coach the store team", "Own store operations, opening and closing",
          "Drive sales goals and the guest experience"],
         ["2+ years of retail management", "Open availability including weekends"],
         (52000, 75000, "year"), "Retail", count=7),
    Role("Retail", "Inventory & Stock",
         ["Stock Associate", "Overnight Stocker", "Inventory Associate"],
         ["Cobalt Home Store", "Peak Sporting Goods"],
         "{company}, a home goods retailer, is hiring a {title}. You will unload trucks, handle receiving shipments "
         "in the backroom, restock shelves and run cycle counts of store inventory.",
         ["Unload trucks and handle receiving shipments", "Restock shelves and displays",
          "Run cycle counts and keep the backroom organized"],
         ["Able to lift 50 lbs", "Overnight availability"],
         (16, 19, "hour"), "Retail", count=5, jobtypes=["parttime", "fulltime"]),
    # ---------------------------------------------------------------- Hospitality
    Role("Hospitality & Food Service", "Culinary",
         ["Line Cook", "Prep Cook", "Sous Chef", "Line Cook - Nights"],
         ["Juniper Kitchen & Bar", "Harvest Table Restaurant Group", "The Copper Pot"],
         "{company}, a full-service restaurant, is hiring a {title} for our kitchen. You will handle food "
         "preparation on the line, cook to our menu and keep food safety standards high.",
         ["Prep and cook dishes to the chef's standards", "Keep the kitchen clean and follow food safety rules",
          "Work the line during busy dinner service"],
         ["1+ year of kitchen experience", "ServSafe food handler card"],
         (17, 23, "hour"), "Food Service", count=10, jobtypes=["fulltime", "parttime"]),
    Role("Hospitality & Food Service", "Front of House",
         ["Restaurant Server", "Bartender", "Barista", "Hostess"],
         ["Juniper Kitchen & Bar", "The Copper Pot", "Bean & Barrel Cafe"],
         "{company}, a busy restaurant and cafe, is hiring a {title} for front of house. You will give guests "
         "friendly table service, pour drinks as a bartender or barista and keep the dining room running.",
         ["Welcome guests and take orders", "Serve food and drinks with great table service",
          "Handle payments and side work"],
         ["Restaurant experience preferred", "Food handler card"],
         (12, 16, "hour"), "Food Service", count=8, jobtypes=["parttime"]),
    Role("Hospitality & Food Service", "Hotel Operations",
         ["Front Desk Agent", "Housekeeper", "Room Attendant", "Night Auditor"],
         ["Lakeview Hotel & Resort", "Grandview Suites Hotel"],
         "{company}, a full-service hotel and resort, is hiring a {title}. You will welcome hotel guests at "
         "check-in, support housekeeping and guest services and keep rooms ready.",
         ["Check guests in and out", "Support housekeeping and room attendants",
          "Answer guest services calls"],
         ["Hospitality experience a plus", "Flexible schedule"],
         (16, 20, "hour"), "Hospitality", count=7, jobtypes=["fulltime", "parttime"]),
    # ---------------------------------------------------------------- Manufacturing
    Role("Manufacturing", "Production & Assembly",
         ["Production Associate", "Assembler", "Machine Operator - 2nd Shift"],
         ["Ridgeway Manufacturing", "Apex Components Inc.", "Northstar Fabrication"],
         "{company}, a manufacturing plant, is hiring a {title} for our production line. You will work on the "
         "assembly line as a machine operator, handle packaging and meet production targets.",
         ["Run machines on the production line", "Assemble components to spec",
          "Meet production targets and keep the shop floor clean"],
         ["High school diploma or GED", "Able to stand for 10-hour shifts"],
         (18, 23, "hour"), "Manufacturing", count=9, jobtypes=["fulltime", "temporary"]),
    Role("Manufacturing", "Industrial Maintenance & Trades",
         ["CNC Machinist", "Industrial Maintenance Technician", "Welder"],
         ["Apex Components Inc.", "Northstar Fabrication"],
         "{company}, a metal fabrication and machining plant, is hiring a {title}. You will set up CNC machines, "
         "do welding and industrial maintenance and run preventive maintenance on plant equipment.",
         ["Set up and run CNC equipment", "Perform welding and fabrication",
          "Troubleshoot PLC controls and do preventive maintenance"],
         ["3+ years as a machinist, welder or maintenance technician", "Blueprint reading"],
         (24, 34, "hour"), "Manufacturing", count=7),
    Role("Manufacturing", "Quality Control",
         ["Quality Inspector", "QC Inspector", "Quality Technician"],
         ["Ridgeway Manufacturing", "Apex Components Inc."],
         "{company}, an ISO 9001 manufacturing plant, is hiring a {title}. You will do quality control "
         "inspection of parts with calipers, read blueprints and record results.",
         ["Inspect parts with calipers and gauges", "Read blueprints and record quality control data",
          "Flag nonconforming parts"],
         ["Quality control experience in manufacturing", "Blueprint reading"],
         (20, 27, "hour"), "Manufacturing", count=5),
    # ---------------------------------------------------------------- Construction
    Role("Construction", "Construction Trades",
         ["Journeyman Electrician", "Plumber", "Carpenter", "Apprentice Electrician"],
         ["Granite Peak Builders", "Summit Electrical Contractors", "Redline Mechanical"],
         "{company}, a commercial construction general contractor, is hiring a {title}. You will work on our job "
         "sites as an electrician, plumber or carpenter, run conduit and handle framing on building projects.",
         ["Install conduit, wiring and fixtures", "Read plans and follow OSHA safety rules",
          "Work with other trades on the job site"],
         ["Journeyman license or apprentice registration", "OSHA 10 certification"],
         (26, 42, "hour"), "Construction", count=9),
    Role("Construction", "Construction Management",
         ["Construction Project Manager", "Site Superintendent", "Estimator"],
         ["Granite Peak Builders", "Keystone Construction Group"],
         "{company}, a general contractor, is hiring a {title} for commercial construction projects. As "
         "superintendent or project manager you will manage subcontractors, the project schedule and bids.",
         ["Manage subcontractors and the project schedule", "Prepare bid estimates",
          "Run safety meetings on the job site"],
         ["5+ years in construction management", "OSHA 30"],
         (90000, 135000, "year"), "Construction", count=5),
    # ---------------------------------------------------------------- Transportation & Logistics
    Role("Transportation & Logistics", "Truck Driving",
         ["Class A CDL Truck Driver", "CDL-A OTR Driver", "Regional Truck Driver - Home Weekends"],
         ["Roadrunner Freight Lines", "BlueLine Trucking", "Heartland Logistics"],
         "{company}, a trucking and freight company, is hiring a {title}. Drive a tractor trailer over the road "
         "with a Class A CDL, 2,500 miles per week and weekly home time.",
         ["Haul freight in a late-model tractor trailer", "Complete pre-trip inspections and logs",
          "Deliver on time to customers across the region"],
         ["Class A CDL with 1 year of experience", "Clean driving record; hazmat endorsement a plus"],
         (75000, 95000, "year"), "Transportation", count=10),
    Role("Transportation & Logistics", "Warehouse Operations",
         ["Warehouse Associate", "Forklift Operator", "Order Picker", "Material Handler"],
         ["Heartland Logistics", "Crossdock Distribution", "Summit Supply Chain"],
         "{company}, a logistics and distribution center operator, is hiring a {title}. You will pick and pack "
         "orders with an RF scanner, drive a forklift and move pallets in our warehouse.",
         ["Pick and pack orders with an RF scanner", "Operate a forklift and move pallets",
          "Load trucks in shipping and receiving"],
         ["Forklift certification a plus", "Able to lift 50 lbs"],
         (18, 22, "hour"), "Warehouse", count=10, jobtypes=["fulltime", "temporary"]),
    Role("Transportation & Logistics", "Delivery & Courier",
         ["Delivery Driver", "Route Driver", "Courier"],
         ["Swift Parcel", "Heartland Logistics"],
         "{company}, a last mile logistics company, is hiring a {title}. You will run a daily delivery route in "
         "a company van, handling package delivery for our fleet.",
         ["Load your van and plan your delivery route", "Deliver packages safely and on time",
          "Scan every package delivery"],
         ["Valid driver's license", "Clean driving record"],
         (19, 23, "hour"), "Transportation", count=6),
    # ---------------------------------------------------------------- Marketing
    Role("Marketing & Advertising", "Digital Marketing",
         ["Digital Marketing Specialist", "SEO Specialist", "Paid Search Manager"],
         ["Brightline Marketing Agency", "Signal & Spark Advertising Agency"],
         "{company}, a digital marketing agency, is hiring a {title}. You will run SEO and paid search campaigns, "
         "manage Google Ads and email marketing and lift conversion rate for clients.",
         ["Plan and run SEO, PPC and paid social campaigns", "Own email marketing and marketing automation",
          "Report on conversion rate with Google Analytics"],
         ["2+ years in digital marketing", "Google Ads certification"],
         (60000, 85000, "year"), "Marketing", count=6, remote="hybrid"),
    Role("Marketing & Advertising", "Creative & Design",
         ["Graphic Designer", "Senior Graphic Designer", "Art Director"],
         ["Signal & Spark Advertising Agency", "Brightline Marketing Agency"],
         "{company}, a creative agency, is hiring a {title}. You will create visual design for brand campaigns "
         "in Adobe Creative Suite, from Photoshop mockups to Illustrator assets.",
         ["Design campaign assets in Photoshop and Illustrator", "Keep brand standards across channels",
          "Present concepts to the creative director"],
         ["A design portfolio", "Expert in Adobe Creative Suite and Figma"],
         (55000, 80000, "year"), "Marketing", count=5),
    # ---------------------------------------------------------------- Legal
    Role("Legal", "Paralegal & Legal Support",
         ["Paralegal", "Litigation Paralegal", "Legal Assistant"],
         ["Morgan & Hale LLP", "Whitfield Law Group"],
         "{company}, a litigation law firm, is hiring a {title}. You will support attorneys with case files, "
         "court filings, document review and e-discovery.",
         ["Prepare court filings and manage case files", "Run document review and e-discovery",
          "Schedule depositions and hearings"],
         ["Paralegal certificate", "2+ years at a law firm"],
         (55000, 75000, "year"), "Legal", count=6),
    Role("Legal", "Attorneys",
         ["Associate Attorney", "Litigation Attorney"],
         ["Morgan & Hale LLP", "Whitfield Law Group"],
         "{company}, a law firm, is hiring an {title} for its litigation group. You will give legal advice, draft "
         "motions and appear in court as an attorney.",
         ["Draft motions and briefs", "Take and defend depositions", "Appear in court"],
         ["Juris doctor and bar admission in the state", "2-5 years of litigation experience"],
         (110000, 160000, "year"), "Legal", count=4),
    # ---------------------------------------------------------------- Government
    Role("Government & Public Sector", "Public Safety",
         ["Police Officer", "Firefighter/EMT", "911 Dispatcher"],
         ["City of Riverton", "County of Westbrook"],
         "The {company} is hiring a {title} to serve our community. This civil service role supports law "
         "enforcement and emergency response as a police officer, firefighter or EMT.",
         ["Respond to emergency calls", "Patrol assigned areas and write reports",
          "Complete required public safety training"],
         ["US citizen, 21 or older", "Pass civil service exam and background check"],
         (55000, 78000, "year"), "Government", count=6),
    Role("Government & Public Sector", "Public Works",
         ["Water Treatment Operator", "Public Works Maintenance Worker"],
         ["City of Riverton", "County of Westbrook"],
         "The {company} public works department is hiring a {title}. You will run water treatment and wastewater "
         "equipment and support road maintenance for this municipal government.",
         ["Operate water treatment and wastewater systems", "Support road maintenance and sanitation crews",
          "Log readings for state reports"],
         ["Water treatment operator certificate", "Valid driver's license"],
         (45000, 62000, "year"), "Government", count=4),
    # ---------------------------------------------------------------- Energy
    Role("Energy & Utilities", "Field Operations",
         ["Journeyman Lineman", "Wind Turbine Technician", "Solar Installer"],
         ["Prairie Wind Energy Company", "Sunridge Solar", "Cascade Electric Utility"],
         "{company}, an electric utility and clean energy company, is hiring a {title}. You will maintain power "
         "lines, substations and wind farm turbines as a field technician on our grid.",
         ["Maintain power lines and substations", "Service wind turbine and solar equipment",
          "Follow grid safety procedures"],
         ["Lineman or wind turbine technician experience", "CDL a plus"],
         (32, 48, "hour"), "Energy", count=6),
    Role("Energy & Utilities", "Plant Operations",
         ["Power Plant Operator", "Control Room Operator"],
         ["Cascade Electric Utility", "Gulf Coast Energy Company"],
         "{company}, a power generation utility, is hiring a {title}. You will run turbines and boilers from the "
         "control room as a power plant operator.",
         ["Monitor turbines and boilers", "Log readings in the control room", "Respond to alarms"],
         ["2+ years as a plant operator", "Mechanical aptitude"],
         (70000, 95000, "year"), "Energy", count=4),
    # ---------------------------------------------------------------- Real estate
    Role("Real Estate", "Property Management",
         ["Property Manager", "Assistant Property Manager", "Community Manager"],
         ["Oakridge Residential", "Lakeshore Apartment Communities"],
         "{company}, a multifamily real estate company, is hiring a {title} for one of our apartment communities. "
         "As property manager you will handle resident relations, rent collection and lease renewals.",
         ["Drive occupancy and lease renewals", "Own rent collection and resident relations",
          "Coordinate work orders with the maintenance team"],
         ["2+ years in property management", "Yardi or RealPage experience"],
         (55000, 72000, "year"), "Real Estate", count=6),
    Role("Real Estate", "Leasing & Brokerage",
         ["Leasing Consultant", "Leasing Agent"],
         ["Oakridge Residential", "Lakeshore Apartment Communities"],
         "{company}, an apartment real estate company, is hiring a {title}. You will run showings, answer "
         "listings leads and sign new residents as a leasing agent.",
         ["Run showings and tours", "Follow up on listings leads", "Prepare leasing paperwork"],
         ["Sales or leasing experience", "Weekend availability"],
         (17, 21, "hour"), "Real Estate", count=4),
    # ---------------------------------------------------------------- Nonprofit
    Role("Nonprofit & Social Services", "Case Management & Social Work",
         ["Case Manager", "Social Worker (LCSW)", "Family Services Case Manager"],
         ["Harbor Light Community Services", "New Roots Family Services"],
         "{company}, a nonprofit human services agency, is hiring a {title}. You will carry a caseload as a "
         "case manager, run intake assessments and provide client advocacy for underserved families.",
         ["Manage a caseload of families", "Run intake assessments and service plans",
          "Provide client advocacy and crisis intervention"],
         ["Bachelor's in social work; MSW or LCSW preferred", "Case management experience"],
         (45000, 60000, "year"), "Social Services", count=6),
    Role("Nonprofit & Social Services", "Fundraising & Development",
         ["Development Officer", "Grant Writer", "Major Gifts Officer"],
         ["New Roots Family Services", "Green Valley Conservancy"],
         "{company}, a mission-driven nonprofit, is hiring a {title}. You will lead fundraising, grant writing "
         "and donor relations with major gifts donors.",
         ["Write grants and reports", "Steward donors and major gifts", "Plan the annual fund"],
         ["3+ years of nonprofit fundraising", "Excellent writing"],
         (58000, 80000, "year"), "Nonprofit", count=4),
    # ---------------------------------------------------------------- Media
    Role("Media & Entertainment", "Journalism & Editorial",
         ["Reporter", "Copy Editor", "News Writer"],
         ["Metro Daily News Media", "Riverbend Broadcast Network"],
         "{company}, a news media company, is hiring a {title} for our newsroom. You will report breaking news, "
         "pitch stories and work with editors as a journalist.",
         ["Report and write breaking news", "Pitch story ideas to editors", "Follow AP style"],
         ["Degree in journalism", "Clips of published work"],
         (45000, 62000, "year"), "Media", count=5),
    Role("Media & Entertainment", "Video & Broadcast Production",
         ["Video Editor", "Video Producer", "Production Assistant"],
         ["Riverbend Broadcast Network", "Silverlake Film Studio"],
         "{company}, a television and streaming broadcast studio, is hiring a {title}. You will handle "
         "post-production as a video editor in Premiere Pro and support camera operators on shoots.",
         ["Edit video in Premiere Pro", "Support post-production workflows", "Assist camera operators on set"],
         ["Reel of video editing work", "Premiere Pro expertise"],
         (50000, 72000, "year"), "Media", count=4),
    # ---------------------------------------------------------------- Pharma / biotech
    Role("Pharmaceuticals & Biotech", "Research & Development",
         ["Research Scientist", "Scientist II - Assay Development", "Senior Research Scientist"],
         ["Helix Therapeutics", "Novagen Biotech"],
         "{company}, a biotech company developing therapeutics, is hiring a {title} for R&D. You will run assay "
         "development, cell culture and PCR as a research scientist.",
         ["Develop and run cell-based assays", "Maintain cell culture", "Run PCR and molecular biology workflows"],
         ["PhD or MS in molecular biology", "Hands-on cell culture and PCR"],
         (95000, 140000, "year"), "Biotech", count=5),
    Role("Pharmaceuticals & Biotech", "Clinical Research",
         ["Clinical Research Associate", "Clinical Research Coordinator"],
         ["Helix Therapeutics", "Meridian Pharma"],
         "{company}, a pharmaceutical company in drug development, is hiring a {title}. You will run site "
         "monitoring for our clinical trial portfolio under GCP and the study protocol.",
         ["Run site monitoring visits", "Check data against the study protocol", "Train sites on GCP"],
         ["2+ years as a clinical research associate", "GCP certification"],
         (80000, 115000, "year"), "Pharmaceutical", count=4, remote="remote"),
    # ---------------------------------------------------------------- Staffing / HR
    Role("Staffing & Human Resources", "Recruiting",
         ["Recruiter", "Technical Recruiter", "Talent Acquisition Specialist"],
         ["Peoplefirst Staffing Agency", "Talentbridge Staffing Firm"],
         "{company}, a staffing agency, is hiring a {title}. You will run full-cycle recruiting and talent "
         "acquisition: sourcing candidates, building the candidate pipeline and partnering with hiring managers.",
         ["Source candidates on LinkedIn and job boards", "Build a candidate pipeline for hiring managers",
          "Close offers"],
         ["2+ years of agency recruiting", "Experience with an ATS"],
         (50000, 70000, "year"), "Human Resources", count=6, remote="hybrid"),
    Role("Staffing & Human Resources", "Payroll & Benefits",
         ["Payroll Specialist", "Benefits Administrator"],
         ["Talentbridge Staffing Firm", "Peoplefirst Staffing Agency"],
         "{company}, a workforce solutions staffing firm, is hiring a {title} for our human resources team. You "
         "will own payroll processing and benefits enrollment as payroll specialist.",
         ["Run weekly payroll processing", "Handle benefits enrollment", "Answer payroll questions"],
         ["2+ years in payroll", "ADP or Workday experience"],
         (52000, 68000, "year"), "Human Resources", count=4),
    # ---------------------------------------------------------------- Automotive
    Role("Automotive", "Automotive Service",
         ["Automotive Technician", "Diesel Technician", "Lube Technician"],
         ["Riverside Auto Group", "Summit Ford Dealership"],
         "{company}, an automotive dealership, is hiring an {title} for our service department. You will do "
         "diagnostics, brakes and oil change work as an ASE certified mechanic.",
         ["Run diagnostics on vehicles", "Repair brakes, suspension and engines", "Complete oil change services"],
         ["ASE certification preferred", "Own tools"],
         (22, 38, "hour"), "Automotive", count=6),
    Role("Automotive", "Dealership Sales",
         ["Automotive Sales Consultant", "Service Advisor"],
         ["Riverside Auto Group", "Summit Ford Dealership"],
         "{company}, an auto dealership, is hiring a {title}. You will sell vehicles as an automotive sales "
         "consultant, run test drives and work with our F&I manager.",
         ["Greet customers and run test drives", "Close car sales", "Follow up with past buyers"],
         ["Automotive sales experience a plus", "Valid driver's license"],
         (45000, 90000, "year"), "Automotive", count=4),
    # ================================================================ ambiguous: between industries/functions
    Role("Healthcare", "Data & Analytics",
         ["Clinical Data Analyst", "Healthcare Data Analyst"],
         ["Valley Health System", "Riverside Hospital"],
         "{company}, a hospital system, is hiring a {title}. You will build dashboards and analytics on patient "
         "data with SQL and Tableau, supporting our data engineer and clinical leaders.",
         ["Build dashboards and reports", "Pull data with SQL", "Partner with the clinic managers"],
         ["2+ years of data analyst experience", "SQL and Tableau"],
         (70000, 95000, "year"), "Healthcare", kind="ambiguous", count=5),
    Role("Education", "IT Support",
         ["IT Support Technician", "Technology Specialist"],
         ["Lakeside School District", "Northfield School District"],
         "{company} is hiring an {title} to support students and teachers. You will provide help desk and desktop "
         "support for classroom devices across the campus.",
         ["Set up Chromebooks and classroom devices", "Answer help desk tickets", "Support teachers with software"],
         ["IT support experience", "CompTIA A+ a plus"],
         (42000, 55000, "year"), "Education", kind="ambiguous", count=5),
    Role("Hospitality & Food Service", "Payroll & Benefits",
         ["Payroll Coordinator", "HR & Payroll Assistant"],
         ["Harvest Table Restaurant Group", "Lakeview Hotel & Resort"],
         "{company}, a restaurant and hotel group, is hiring a {title} for our office. You will run payroll "
         "for restaurant and hotel staff and help with onboarding.",
         ["Run biweekly payroll", "Help with onboarding paperwork", "Answer staff questions"],
         ["Payroll experience", "Microsoft Excel"],
         (45000, 55000, "year"), "Hospitality", kind="ambiguous", count=4),
    Role("Real Estate", "Industrial Maintenance & Trades",
         ["Maintenance Technician", "Apartment Maintenance Technician"],
         ["Oakridge Residential", "Lakeshore Apartment Communities"],
         "{company} is hiring a {title} for one of our apartment communities. You will complete work orders, "
         "do preventive maintenance on HVAC and plumbing and help with make ready units.",
         ["Complete work orders", "Do preventive maintenance", "Prepare make ready units"],
         ["HVAC certification a plus", "Own basic tools"],
         (20, 27, "hour"), "Maintenance", kind="ambiguous", count=5),
    Role("Marketing & Advertising", "Content & Communications",
         ["Marketing Coordinator", "Communications Coordinator"],
         ["Riverside Hospital", "Keystone Bank", "Lakeside School District"],
         "{company} is hiring a {title}. You will support marketing campaigns, write social media posts and help "
         "with events.",
         ["Write social media posts", "Support campaigns and events", "Update the website"],
         ["Bachelor's degree in marketing or communications", "Strong writing"],
         (45000, 58000, "year"), "Marketing", kind="ambiguous", count=5),
    Role("Insurance", "Insurance Sales & Service",
         ["Customer Service Representative", "Customer Care Specialist"],
         ["Bluestone Insurance Company", "Prairie Mutual Insurance Company"],
         "{company} is hiring a {title}. You will answer calls from customers, explain their options and update "
         "their records.",
         ["Answer inbound calls", "Update customer records", "Escalate complex issues"],
         ["Customer service experience", "Clear communication skills"],
         (17, 20, "hour"), "Customer Service", kind="ambiguous", count=5),
    Role("Technology", "Product Management",
         ["Project Manager", "Technical Project Manager"],
         ["Corvid Tech Services", "Stackline Software"],
         "{company} is hiring a {title} to keep our software delivery on track. You will run project schedules, "
         "work with the engineering team and report status.",
         ["Run project schedules", "Report status to stakeholders", "Remove blockers"],
         ["PMP a plus", "3+ years of project management"],
         (90000, 120000, "year"), "Information Technology", kind="ambiguous", count=4),
    Role("Transportation & Logistics", "Logistics Coordination",
         ["Dispatcher", "Logistics Coordinator"],
         ["Heartland Logistics", "City of Riverton"],
         "{company} is hiring a {title}. You will schedule drivers, answer calls and keep records of routes "
         "and deliveries.",
         ["Schedule drivers", "Answer calls", "Keep records"],
         ["Dispatch experience a plus", "Organized and calm under pressure"],
         (40000, 52000, "year"), "Transportation", kind="ambiguous", count=4),
    # ================================================================ vague: nothing to classify on
    Role("", "",
         ["Team Member", "General Associate", "Crew Member", "Entry Level Opportunity", "Associate",
          "Part-Time Helper", "Work From Home Opportunity", "Assistant"],
         ["Acme Opportunities", "Bright Future Group", "Pinnacle Ventures", "Sunrise Holdings"],
         "{company} is looking for a reliable, motivated {title} to join our growing team. No experience "
         "necessary; we will train you.",
         ["Help wherever needed", "Follow directions from the team lead", "Keep a positive attitude"],
         ["Must be at least 18", "Able to work weekends", "Friendly and dependable"],
         (14, 17, "hour"), "General", kind="vague", count=20, jobtypes=["parttime", "fulltime, parttime"]),
]

MULTI_LOCATION_SHARE = 0.15  # share of postings that are a role posted in 2-4 cities
CLOSED_STATUSES = ["CLOSED", "closed", " CLOSED ", "Closed"]
OPEN_STATUSES = ["OPEN"] * 12 + ["open", " Open "]


def _salary(rng: random.Random, pay: tuple[float, float, str]) -> str:
    low, high, period = pay
    if rng.random() < 0.12:
        return ""
    if period == "hour":
        a = round(rng.uniform(low, (low + high) / 2) * 2) / 2
        b = round(rng.uniform(a + 1, high + 1) * 2) / 2
        return rng.choice([f"${a:.2f} - ${b:.2f} per hour", f"${a:g} an hour", f"${a:g} - ${b:g} per hour"])
    a = int(rng.uniform(low, (low + high) / 2) // 1000)
    b = int(rng.uniform(a * 1000 + 5000, high) // 1000)
    return rng.choice([f"${a}K per year", f"${a},000 - ${b},000 per year", f"${a}K - ${b}K a year"])


def _description(rng: random.Random, role: Role, company: str, title: str, city: str, edit: int) -> str:
    intro = role.intro.format(company=company, title=title, city=city)
    duties = rng.sample(role.duties, k=len(role.duties))
    reqs = list(role.requirements)
    parts = [f"<p>{escape(intro)}</p>"]
    if edit == 1:
        parts.append(f"<p>This position is based at our {escape(city)} location.</p>")
    if role.kind != "vague":
        parts.append("<p><strong>What you will do</strong></p><ul>" +
                     "".join(f"<li>{escape(d)}</li>" for d in duties) + "</ul>")
        parts.append("<p><strong>What you bring</strong></p><ul>" +
                     "".join(f"<li>{escape(r)}</li>" for r in reqs) + "</ul>")
    else:
        parts.append("<p>" + escape(" ".join(duties + reqs)) + ". Flexible scheduling and weekly pay!</p>")
    if role.remote == "remote":
        parts.append("<p>This is a fully remote position open to candidates across the US.</p>")
    elif role.remote == "hybrid":
        parts.append(f"<p>Hybrid: three days a week in our {escape(city)} office.</p>")
    if rng.random() < 0.08:
        deadline = datetime(2027, rng.randint(1, 12), rng.randint(1, 28))
        parts.append(f"<p>Apply by {deadline.strftime('%B')} {deadline.day}, {deadline.year}.</p>")
    parts.append(f"<p><strong>Benefits</strong></p><p>{escape(rng.choice(BENEFITS))}</p>")
    parts.append(f"<p>{escape(rng.choice(EEO).format(company=company))}</p>")
    return "".join(parts)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


def build_jobs(rng: random.Random) -> list[dict]:
    """Every posting of the sample feed as a dict of XML field -> text, plus the generator's intent."""
    jobs: list[dict] = []
    reference = 100000
    requisition = 5000
    for role_index, role in enumerate(ROLES):
        made = 0
        while made < role.count:
            title = rng.choice(role.titles)
            company = rng.choice(role.companies)
            requisition += 1
            cities = [rng.choice(CITIES)]
            if rng.random() < MULTI_LOCATION_SHARE and role.count - made >= 2:
                cities = rng.sample(CITIES, k=min(role.count - made, rng.randint(2, 4)))
            jobtype = rng.choice(role.jobtypes)
            description_seed = rng.random()  # one text per role, lightly edited per location
            posted = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(
                days=rng.randint(0, 310), hours=rng.randint(6, 20), minutes=rng.randint(0, 59))
            for location_index, (city, state, postal) in enumerate(cities):
                reference += rng.randint(1, 7)
                edit = 0 if location_index == 0 else rng.choice([0, 0, 1])
                url = (f"https://careers.{_slug(company)[:24]}.example.com/jobs/{reference}"
                       f"?utm_source=indeed{'&amp;' if rng.random() < 0.3 else '&'}utm_medium=feed")
                jobs.append({
                    "title": title,
                    "date": format_datetime(posted + timedelta(hours=location_index)),
                    "referencenumber": f"{_slug(company)[:3].upper()}-{reference}",
                    "requisitionid": f"REQ-{requisition}",
                    "url": url,
                    "company": company,
                    "sourcename": company,
                    "city": city,
                    "state": state,
                    "country": "US",
                    "postalcode": postal,
                    "description": _description(random.Random(description_seed), role, company, title, city, edit),
                    "salary": _salary(rng, role.pay),
                    "jobtype": jobtype,
                    "category": role.category,
                    "status": rng.choice(OPEN_STATUSES),
                    "_kind": role.kind,
                    "_industry": role.industry,
                    "_function": role.function,
                    "_role": role_index,
                })
                if role.remote == "remote":
                    jobs[-1]["remotetype"] = "Fully remote"
                made += 1
    _mark_closed_and_expiring(rng, jobs)
    return jobs


def _mark_closed_and_expiring(rng: random.Random, jobs: list[dict]) -> None:
    """~10% CLOSED in mixed spellings; a few expiration dates, far future except the few meant to be expired."""
    order = list(range(len(jobs)))
    rng.shuffle(order)
    closed = order[: round(len(jobs) * 0.10)]
    expired = order[len(closed) : len(closed) + 6]
    expiring = order[len(closed) + 6 : len(closed) + 30]
    for i in closed:
        jobs[i]["status"] = rng.choice(CLOSED_STATUSES)
        jobs[i]["_intent"] = "closed"
    for i in expired:
        jobs[i]["expirationdate"] = f"2026-{rng.randint(2, 9):02d}-{rng.randint(1, 28):02d}"
        jobs[i]["_intent"] = "expired"
    for i in expiring:
        jobs[i]["expirationdate"] = f"{rng.randint(2030, 2032)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


FIELD_ORDER = ["title", "date", "referencenumber", "requisitionid", "url", "company", "sourcename", "city",
               "state", "country", "postalcode", "description", "salary", "jobtype", "category", "status",
               "expirationdate", "remotetype"]


def render(jobs: list[dict]) -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<source>",
        "  <publisher>Feed Pipeline Sample Publisher</publisher>",
        "  <publisherurl>https://jobs.example.com</publisherurl>",
        "  <lastBuildDate>Sun, 15 Nov 2026 08:00:00 GMT</lastBuildDate>",
    ]
    for job in jobs:
        lines.append("  <job>")
        for name in FIELD_ORDER:
            if name not in job:
                continue
            value = job[name]
            if name == "description":
                lines.append(f"    <description>{_cdata(chr(10) + '      ' + value + chr(10) + '    ')}</description>")
            elif name == "status":
                lines.append(f"    <status>{escape(value)}</status>")
            else:
                lines.append(f"    <{name}>{_cdata(value)}</{name}>")
        lines.append("  </job>")
    lines.append("</source>")
    return "\n".join(lines) + "\n"


def summarize(jobs: list[dict]) -> dict:
    """Routes the offline classifier gives the open, unexpired postings (the routing thresholds of DESIGN.md)."""
    sys.path.insert(0, str(ROOT))
    from feed_pipeline.core.enrichment import FunctionInput, IndustryInput
    from feed_pipeline.core.keyword_classifier import KeywordClassifier
    from feed_pipeline.core.taxonomy import load_taxonomy
    from feed_pipeline.core.text import plain_text

    taxonomy = load_taxonomy()
    classifier = KeywordClassifier(taxonomy)
    routes: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    for i, job in enumerate(jobs):
        if job.get("_intent") in ("closed", "expired"):
            routes[job["_intent"]] += 1
            continue
        result = classifier.classify_industry(
            IndustryInput(str(i), job["title"], job["company"], plain_text(job["description"])))
        if result.confidence < ARCHIVE_BELOW:
            route = "archived"
        else:
            function = classifier.classify_function(
                result.industry, taxonomy.functions_of(result.industry),
                FunctionInput(str(i), result.ai_title, result.ai_description, result.skills))
            low = min(result.confidence, function.confidence)
            route = "approved" if low >= APPROVE_AT else "manual_review" if low >= ARCHIVE_BELOW else "archived"
        routes[route] += 1
        by_kind.setdefault(job["_kind"], Counter())[route] += 1
    return {"routes": dict(routes), "by_kind": {k: dict(v) for k, v in by_kind.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the bundled file instead of writing")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    jobs = build_jobs(random.Random(SEED))
    text = render(jobs)
    if args.check:
        if not args.output.exists() or args.output.read_text(encoding="utf-8") != text:
            print(f"{args.output} is stale: run scripts/make_sample_feed.py", file=sys.stderr)
            return 1
    else:
        args.output.write_text(text, encoding="utf-8")
    multi = Counter(j["requisitionid"] for j in jobs)
    print(f"{len(jobs)} postings, {sum(1 for c in multi.values() if c > 1)} multi-location roles, "
          f"written to {args.output}" if not args.check else f"{args.output} is up to date")
    print(summarize(jobs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
