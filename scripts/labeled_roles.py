"""The role catalogue make_labeled_set.py writes postings from: titles as boards really spell them, duties,
requirements and the companies that post them. One entry per kind of job ("concept"); each board maps the
concepts it carries to its own taxonomy's labels (labeled_boards.py).

Every list is ordered: entries at positions 2, 5, 8... (index % 3 == 2) are written only into the held-out
split, so the final check sees title variants and phrasings the dev split never showed.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    titles: tuple[str, ...]
    duties: tuple[str, ...]
    requirements: tuple[str, ...]
    sector: str  # which company pool posts it: property, tech, health, logistics, retail, general


def c(sector: str, titles: list[str], duties: list[str], requirements: list[str]) -> Concept:
    return Concept(tuple(titles), tuple(duties), tuple(requirements), sector)


CONCEPTS: dict[str, Concept] = {
    # ------------------------------------------------------------------------------------ property management
    "leasing": c("property", [
        "Leasing Consultant", "Leasing Professional", "Leasing Agent", "Leasing Specialist", "Leasing Associate",
        "Bilingual Leasing Consultant", "Leasing Consultant - Lease Up", "Part-Time Leasing Agent",
        "Sales & Leasing Professional", "Leasing Manager", "Leasing Coordinator", "Leasing Representative",
        "Senior Leasing Consultant", "Leasing Sales Associate", "Weekend Leasing Consultant",
        "Agente de Arrendamiento / Leasing Agent", "Community Ambassador (Leasing)", "Lease-Up Specialist",
    ], [
        "Greet prospective residents and conduct guided tours of apartment homes and amenities.",
        "Follow up on every lead by phone, email and text and convert traffic into signed leases.",
        "Process rental applications, screen applicants and prepare lease documents.",
        "Meet weekly leasing goals and keep the closing ratio above target.",
        "Answer the leasing office phones and respond to internet leads within the hour.",
        "Walk model units and vacant apartments daily to make sure they are tour-ready.",
        "Explain lease terms, pricing and specials to prospects and close the sale.",
        "Support renewal efforts by reaching out to residents before lease expiration.",
        "Use Yardi/RealPage CRM to log traffic, follow-ups and lease signings.",
        "Plan outreach marketing to local employers to drive traffic to the community.",
        "Keep current on market surveys and competitor pricing.",
        "Shop competitor communities and report on their specials.",
    ], [
        "1+ year of sales, leasing or customer service experience.",
        "Strong closing skills and a competitive spirit.",
        "Weekend availability required; the leasing office is open Saturdays.",
        "Knowledge of Fair Housing laws preferred.",
        "Bilingual English/Spanish a plus.",
        "Experience with OneSite, Entrata or Yardi preferred.",
    ], ),
    "maint_tech": c("property", [
        "Maintenance Technician", "Maint Tech", "Apartment Maintenance Technician", "Service Technician",
        "Make Ready Technician", "Maintenance Tech II", "Maintenance Technician - HVAC Certified",
        "Maintenance Mechanic", "Make-Ready Tech", "Turn Technician", "Building Maintenance Technician",
        "Maintenance Technician I", "Apartment Service Tech", "Técnico de Mantenimiento / Maintenance Tech",
        "Facilities Technician", "Maintenance Associate", "Painter / Make Ready", "Maintenance Apprentice",
        "HVAC Maintenance Technician", "Sr. Maintenance Tech",
    ], [
        "Complete resident work orders promptly and correctly, usually the same day.",
        "Make ready vacant apartments: paint, patch drywall, replace fixtures and test appliances.",
        "Diagnose and repair HVAC, plumbing, electrical and appliance problems in occupied units.",
        "Participate in the after-hours emergency on-call rotation.",
        "Perform preventive maintenance on pools, boilers, water heaters and common area equipment.",
        "Keep the shop, tools and parts inventory organized.",
        "Replace light fixtures, garbage disposals, faucets and toilets.",
        "Inspect units at move-out and estimate turn scope.",
        "Repair doors, locks, blinds and drywall throughout the property.",
        "Maintain the pool and spa to health department standards.",
        "Service rooftop units and change HVAC filters on a schedule.",
        "Troubleshoot washers, dryers, ranges and refrigerators.",
    ], [
        "2+ years of apartment or building maintenance experience.",
        "EPA 608 certification (Universal preferred).",
        "Must provide own hand tools and reliable transportation.",
        "CPO certification a plus.",
        "Able to lift 50 lbs and climb ladders.",
        "HVAC, plumbing and electrical troubleshooting skills.",
    ]),
    "maint_sup": c("property", [
        "Maintenance Supervisor", "Service Manager", "Maintenance Manager", "Service Supervisor",
        "Facilities Manager", "Maintenance Director", "Chief Engineer", "Maintenance Supervisor - Lease Up",
        "Director of Maintenance", "Community Maintenance Supervisor", "Service Director",
        "Maintenance Supervisor (Bilingual)", "Facilities Supervisor", "Building Engineer Supervisor",
        "Regional Maintenance Supervisor",
    ], [
        "Lead and schedule the community's maintenance team and assign work orders.",
        "Hire, train and coach maintenance technicians and porters.",
        "Own the make-ready schedule so units are rent-ready on time.",
        "Manage vendors, bids and contractors for capital projects.",
        "Oversee preventive maintenance programs and the after-hours on-call schedule.",
        "Walk the property with the Community Manager and plan capital improvements.",
        "Control the maintenance budget, parts inventory and purchasing.",
        "Ensure OSHA, fire and life-safety compliance across the property.",
        "Inspect completed work orders and follow up with residents on quality.",
        "Supervise a team of four technicians, a make-ready tech and two porters.",
        "Approve invoices from HVAC, plumbing and landscaping vendors.",
    ], [
        "3+ years of multifamily maintenance experience, 1+ year supervising.",
        "HVAC certification (EPA Universal) required.",
        "Experience managing a team and vendors.",
        "CPO certification preferred.",
        "Strong electrical, plumbing and HVAC troubleshooting skills.",
    ]),
    "lead_tech": c("property", [
        "Lead Maintenance Technician", "Lead Maintenance Tech", "Assistant Maintenance Supervisor",
        "Lead Service Technician", "Maintenance Lead", "Assistant Service Manager",
    ], [
        "Assist the Maintenance Supervisor in scheduling and assigning work orders.",
        "Complete work orders and make readies while training newer technicians.",
        "Lead the team when the supervisor is out and cover the on-call rotation.",
        "Diagnose HVAC, plumbing and electrical issues in apartments.",
        "Order parts and keep the shop inventory current.",
    ], [
        "3+ years of apartment maintenance experience.",
        "EPA certification required.",
        "Experience leading a small team preferred.",
    ]),
    "grounds_porter": c("property", [
        "Porter", "Groundskeeper", "Porter/Groundskeeper", "Grounds Technician", "Community Porter",
        "Part-Time Porter", "Grounds Keeper", "Landscape & Grounds Technician", "Porter / Grounds",
        "Janitor", "Custodian", "Conserje / Porter", "Groundskeeper - Weekends", "Amenity Attendant",
        "Day Porter", "Jardinero / Groundskeeper", "Grounds Crew Member",
    ], [
        "Pick up trash and litter across the grounds, parking lots and breezeways every morning.",
        "Clean common areas, the clubhouse, fitness center and pool deck.",
        "Empty trash cans and pet stations and keep the dumpster areas clean.",
        "Blow walkways, pull weeds and keep landscaping neat.",
        "Remove bulk trash and report maintenance issues to the service team.",
        "Assist with make-ready cleaning when needed.",
        "Clean the pool deck and arrange furniture daily.",
        "Power wash breezeways and stairwells.",
        "Haul trash to the compactor and keep the area clean.",
    ], [
        "No experience required; we will train.",
        "Able to work outdoors in all weather and lift 50 lbs.",
        "Reliable and detail oriented.",
        "Valid driver's license a plus.",
    ]),
    "housekeeping": c("property", [
        "Housekeeper", "Community Housekeeper", "Make Ready Cleaner", "Housekeeping Attendant",
        "Apartment Cleaner", "Limpieza / Housekeeper", "Model Unit Housekeeper", "Turn Cleaner",
    ], [
        "Clean vacant apartments after move-out so they are ready for new residents.",
        "Keep model units, the leasing office and the clubhouse spotless.",
        "Clean appliances, cabinets, floors and bathrooms in make-ready units.",
        "Restock supplies in the clubhouse and fitness center.",
        "Report damage found while cleaning to the maintenance team.",
    ], [
        "Cleaning experience preferred.",
        "Able to stand and walk for the whole shift.",
        "Attention to detail.",
    ]),
    "community_mgr": c("property", [
        "Community Manager", "Property Manager", "General Manager", "Community Director", "Site Manager",
        "Property Manager - Affordable Housing", "Community Manager - Lease Up", "Business Manager",
        "Senior Community Manager", "Property Manager (Multifamily)", "CAM - Community Association Manager",
        "Property Director", "Resident Manager", "Onsite Property Manager", "HOA Community Manager",
        "Commercial Property Manager",
    ], [
        "Lead all operations of a 300-unit apartment community, including leasing, maintenance and resident relations.",
        "Prepare and manage the annual operating budget and monthly variance reports.",
        "Drive occupancy, rent growth and collections; manage delinquency and evictions.",
        "Hire, train and develop the on-site leasing and maintenance teams.",
        "Report property performance to ownership and the Regional Manager.",
        "Approve invoices, review the rent roll and manage vendor contracts.",
        "Resolve escalated resident concerns and keep resident satisfaction high.",
        "Ensure Fair Housing compliance and company policy across the team.",
        "Oversee the association's board meetings, budgets and covenant enforcement.",
        "Partner with the Maintenance Supervisor on capital projects and curb appeal.",
        "Manage rent collection and month-end close with the accounting team.",
    ], [
        "3+ years of property management experience.",
        "Experience with Yardi, RealPage or Entrata.",
        "CAM, CAPS or ARM designation preferred.",
        "Budgeting and financial reporting skills.",
        "Florida CAM license required for association roles.",
    ]),
    "assistant_mgr": c("property", [
        "Assistant Community Manager", "Assistant Property Manager", "Assistant Manager",
        "Assistant General Manager", "APM - Assistant Property Manager", "Assistant Business Manager",
        "Asst. Community Manager", "Associate Community Manager",
    ], [
        "Support the Community Manager in all aspects of property operations.",
        "Collect rent, post payments and manage delinquency and evictions.",
        "Process move-ins, move-outs, renewals and lease files.",
        "Prepare month-end reports and reconcile resident ledgers.",
        "Supervise the leasing team in the manager's absence.",
        "Handle resident concerns and enforce community policies.",
    ], [
        "2+ years of property management or leasing experience.",
        "Yardi or OneSite experience.",
        "Strong organizational and customer service skills.",
    ]),
    "regional": c("property", [
        "Regional Manager", "Regional Property Manager", "Regional Director", "District Manager",
        "Regional Vice President", "Regional Operations Manager", "VP of Property Management",
        "Area Manager - Multifamily", "Regional Portfolio Manager", "Senior Regional Manager",
        "Vice President of Operations",
    ], [
        "Oversee a portfolio of eight multifamily communities across the region.",
        "Coach and develop community managers and hold them accountable for results.",
        "Review budgets, financial statements and variance reports for each property.",
        "Conduct regular site visits and property inspections.",
        "Report portfolio performance to ownership and asset managers.",
        "Lead the takeover of new properties and lease-up strategy.",
        "Travel between properties up to 50% of the time.",
    ], [
        "7+ years of property management experience, 3+ years managing multiple properties.",
        "Proven track record of improving NOI.",
        "Bachelor's degree preferred.",
        "Willingness to travel within the region.",
    ]),
    "asset_mgmt": c("property", [
        "Asset Manager", "Real Estate Asset Manager", "Senior Asset Manager", "Asset Management Analyst",
        "Acquisitions Analyst", "Real Estate Analyst", "Associate, Asset Management",
        "Investment Analyst - Multifamily",
        "Director of Asset Management", "Dispositions Associate", "Portfolio Analyst",
    ], [
        "Monitor property financial performance against the business plan and budget.",
        "Build cash-flow models and underwrite acquisitions and dispositions.",
        "Prepare quarterly investor reports and presentations.",
        "Work with property management on budgets, capital plans and NOI growth.",
        "Analyze market data, rent comps and valuations.",
        "Support refinancing, debt covenants and lender reporting.",
    ], [
        "Bachelor's degree in finance, real estate or economics.",
        "Advanced Excel and Argus modeling skills.",
        "2+ years of real estate asset management, acquisitions or underwriting experience.",
    ]),
    "accounting": c("property", [
        "Property Accountant", "Staff Accountant - Real Estate", "Accounts Payable Specialist",
        "Senior Property Accountant", "Accounting Specialist", "Bookkeeper", "AR Specialist",
        "Accounts Receivable Coordinator", "Property Accounting Manager", "Controller",
    ], [
        "Prepare monthly financial statements for a portfolio of properties.",
        "Reconcile bank accounts, resident ledgers and the general ledger.",
        "Process invoices and vendor payments in Yardi.",
        "Post journal entries and accruals at month-end close.",
        "Work with property managers on budget variances and collections.",
        "Prepare CAM reconciliations for commercial tenants.",
    ], [
        "Bachelor's degree in accounting or 3+ years of property accounting experience.",
        "Yardi Voyager or MRI experience.",
        "Strong Excel skills.",
    ]),
    "admin_compliance": c("property", [
        "Compliance Specialist", "Compliance Coordinator - Affordable Housing", "Administrative Assistant",
        "Office Manager", "Receptionist", "Tax Credit Specialist", "Compliance Manager", "Office Administrator",
        "Occupancy Specialist", "Administrative Coordinator", "Certification Specialist - LIHTC",
    ], [
        "Review move-in and annual recertification files for LIHTC and HUD compliance.",
        "Audit tenant files and income certifications before agency inspections.",
        "Answer phones, greet visitors and manage office supplies.",
        "Maintain filing systems, schedule meetings and prepare correspondence.",
        "Track compliance deadlines and report findings to management.",
        "Assist the property team with data entry and reports.",
    ], [
        "Knowledge of Section 42 / LIHTC and HUD regulations.",
        "Organized and detail oriented.",
        "Proficient in Microsoft Office.",
        "COS, TCS or HCCP certification a plus.",
    ]),
    "resident_services": c("property", [
        "Resident Services Coordinator", "Resident Experience Coordinator", "Lifestyle Director",
        "Resident Events Coordinator", "Concierge", "Resident Services Manager", "Front Desk Concierge",
        "Resident Retention Specialist", "Activities Coordinator", "Lifestyle Coordinator",
        "Resident Relations Coordinator", "Courtesy Patrol Officer",
    ], [
        "Plan and host resident events that build community and drive retention.",
        "Greet residents and guests at the front desk and manage packages.",
        "Connect residents with social services and community resources.",
        "Respond to resident requests and follow up on service issues.",
        "Run resident surveys and renewal campaigns.",
        "Keep the community calendar and newsletter current.",
    ], [
        "1+ year in hospitality, customer service or resident services.",
        "Friendly, outgoing and organized.",
        "Event planning experience a plus.",
    ]),
    "corporate_hr": c("property", [
        "HR Generalist", "Recruiter", "Talent Acquisition Specialist", "Payroll Specialist",
        "Human Resources Manager", "Training Manager", "Learning & Development Specialist", "HR Coordinator",
    ], [
        "Support employee relations, onboarding and HR policies at the corporate office.",
        "Recruit for on-site and corporate positions across our portfolio.",
        "Run biweekly payroll and benefits enrollment.",
        "Design training programs for site teams.",
        "Maintain HRIS data and employee files.",
    ], [
        "3+ years of HR or recruiting experience.",
        "SHRM-CP a plus.",
        "Experience with Paycom or ADP.",
    ]),
    "corporate_it": c("property", [
        "IT Support Specialist", "Systems Administrator", "Software Engineer", "Business Analyst",
        "Yardi System Administrator", "Data Analyst", "Help Desk Technician",
    ], [
        "Support corporate and site staff with laptops, accounts and phones.",
        "Administer our property management software and integrations.",
        "Build reports and dashboards for operations leadership.",
        "Maintain network, Microsoft 365 and security tools.",
    ], [
        "2+ years of IT or systems experience.",
        "Yardi or RealPage administration experience a plus.",
        "SQL skills preferred.",
    ]),
    "corporate_marketing": c("property", [
        "Marketing Manager", "Marketing Coordinator", "Digital Marketing Specialist",
        "Social Media Coordinator", "Brand Manager", "Marketing Director",
    ], [
        "Manage digital advertising, ILS listings and the company websites.",
        "Create social media content for our communities.",
        "Support lease-ups with marketing plans and signage.",
        "Track lead sources and marketing spend.",
    ], [
        "Bachelor's degree in marketing.",
        "2+ years of marketing experience, real estate preferred.",
        "Adobe Creative Suite skills.",
    ]),
    "brokerage": c("property", [
        "Real Estate Agent", "Licensed Realtor", "Commercial Real Estate Broker", "Buyer's Agent",
        "Listing Coordinator", "Transaction Coordinator",
    ], [
        "Represent buyers and sellers in residential transactions.",
        "Prospect for listings and hold open houses.",
        "Coordinate closings with escrow, lenders and inspectors.",
        "Market listings and negotiate offers.",
    ], [
        "Active real estate license.",
        "Self-motivated and client focused.",
    ]),
    # ------------------------------------------------------------------------------------------------ technology
    "backend": c("tech", [
        "Backend Engineer", "Senior Software Engineer, Backend", "Software Engineer II", "Python Developer",
        "Java Developer", "Back-End Developer", "Staff Software Engineer", "Go Engineer",
        "Software Engineer - Platform APIs", "Sr. Backend Developer (Node.js)",
    ], [
        "Design and build scalable APIs and microservices.",
        "Write well-tested Python/Go code and review pull requests.",
        "Own services in production, including on-call.",
        "Model data in PostgreSQL and tune queries.",
        "Collaborate with product managers and designers on new features.",
    ], [
        "4+ years building backend systems.", "Experience with Python, Java or Go.",
        "Familiarity with AWS and Docker.",
    ]),
    "frontend": c("tech", [
        "Frontend Engineer", "React Developer", "Senior Front-End Engineer", "UI Engineer",
        "iOS Engineer", "Android Developer", "Mobile Engineer (React Native)", "Web Developer",
    ], [
        "Build responsive user interfaces in React and TypeScript.",
        "Ship features in our iOS and Android apps.",
        "Work with designers to turn Figma mocks into accessible components.",
        "Improve web performance and Core Web Vitals.",
    ], [
        "3+ years of front-end or mobile development.", "Strong JavaScript/TypeScript skills.",
        "Experience with Swift or Kotlin a plus.",
    ]),
    "data": c("tech", [
        "Data Engineer", "Data Scientist", "Machine Learning Engineer", "Analytics Engineer",
        "Senior Data Analyst", "ML Engineer", "BI Developer",
    ], [
        "Build batch and streaming data pipelines with Airflow and Spark.",
        "Train and deploy machine learning models.",
        "Model data in Snowflake with dbt.",
        "Build dashboards in Looker and Tableau.",
    ], [
        "SQL and Python expertise.", "Experience with cloud data warehouses.",
        "Statistics or ML background.",
    ]),
    "devops": c("tech", [
        "DevOps Engineer", "Site Reliability Engineer", "SRE", "Platform Engineer", "Cloud Engineer",
        "Senior DevOps Engineer (AWS)", "Infrastructure Engineer",
    ], [
        "Run Kubernetes clusters and Terraform-managed infrastructure on AWS.",
        "Build CI/CD pipelines and improve deployment speed.",
        "Own observability with Prometheus, Grafana and Datadog.",
        "Participate in the on-call rotation and lead incident reviews.",
    ], [
        "Experience with Kubernetes, Terraform and AWS.", "Linux and scripting skills.",
    ]),
    "security": c("tech", [
        "Security Engineer", "SOC Analyst", "Cybersecurity Analyst", "Application Security Engineer",
        "Penetration Tester", "Information Security Manager",
    ], [
        "Monitor SIEM alerts and respond to incidents.",
        "Run vulnerability scans and penetration tests.",
        "Harden cloud infrastructure and review code for security flaws.",
    ], ["Security+ or CISSP.", "Experience with Splunk or another SIEM."]),
    "qa": c("tech", [
        "QA Engineer", "SDET", "Test Automation Engineer", "Software Tester", "QA Analyst",
    ], [
        "Write automated tests with Selenium and Cypress.", "Plan regression testing for releases.",
        "File and triage bugs with developers.",
    ], ["2+ years of QA experience.", "Test automation skills."]),
    "product": c("tech", [
        "Product Manager", "Senior Product Manager", "Product Owner", "Product Designer", "UX Designer",
        "Technical Product Manager",
    ], [
        "Own the product roadmap and prioritize features.", "Run user research and usability tests.",
        "Write requirements and work with engineering to ship.", "Design flows and prototypes in Figma.",
    ], ["3+ years in product management or design.", "Strong communication skills."]),
    "it_support": c("tech", [
        "IT Support Technician", "Help Desk Analyst", "Desktop Support Specialist", "Service Desk Technician",
        "IT Specialist", "Systems Administrator",
    ], [
        "Troubleshoot hardware, software and network issues for end users.",
        "Manage Active Directory accounts and Microsoft 365.", "Image laptops and manage the ticketing system.",
    ], ["CompTIA A+ preferred.", "1+ year of help desk experience."]),
    # ------------------------------------------------------------------------------------------------ healthcare
    "rn": c("health", [
        "Registered Nurse", "RN - Med Surg", "ICU Registered Nurse", "Travel RN - ER", "Charge Nurse",
        "RN Case Manager", "Labor & Delivery RN", "Nurse (RN) - Night Shift", "Registered Nurse - Telemetry",
    ], [
        "Provide direct patient care and administer medications.", "Assess patients and update care plans.",
        "Coordinate with physicians and the care team.", "Educate patients and families at discharge.",
    ], ["Active RN license.", "BLS and ACLS.", "1+ year of acute care experience."]),
    "cna_lpn": c("health", [
        "Certified Nursing Assistant", "CNA", "LPN", "Licensed Practical Nurse", "Patient Care Technician",
        "Nursing Assistant - Nights", "Medical Assistant",
    ], [
        "Help residents with bathing, dressing and meals.", "Take vital signs and report changes to the nurse.",
        "Pass medications under supervision.", "Room patients and record histories.",
    ], ["Active CNA certification or LPN license.", "CPR certification."]),
    "physician": c("health", [
        "Family Medicine Physician", "Hospitalist", "Nurse Practitioner", "Physician Assistant",
        "Emergency Medicine Physician", "Psychiatrist", "FNP - Urgent Care",
    ], [
        "Diagnose and treat patients in a busy clinic.", "Prescribe medications and order tests.",
        "Supervise advanced practice providers.", "Round on inpatients.",
    ], ["MD/DO or NP/PA license.", "Board certification.", "DEA registration."]),
    "therapy": c("health", [
        "Physical Therapist", "Occupational Therapist", "Speech Language Pathologist",
        "Respiratory Therapist", "PT Assistant", "COTA",
    ], [
        "Evaluate patients and design treatment plans.", "Deliver therapy sessions and document progress.",
        "Teach home exercise programs.",
    ], ["State license.", "Outpatient or acute experience."]),
    "pharmacy": c("health", [
        "Pharmacist", "Pharmacy Technician", "Clinical Pharmacist", "Certified Pharmacy Tech",
    ], [
        "Fill and verify prescriptions.", "Counsel patients on medications.", "Manage pharmacy inventory.",
    ], ["PharmD or CPhT.", "State registration."]),
    "lab_imaging": c("health", [
        "Medical Laboratory Scientist", "Phlebotomist", "Radiologic Technologist", "MRI Technologist",
        "Ultrasound Technician", "Lab Assistant", "CT Tech",
    ], [
        "Draw blood and process specimens.", "Perform diagnostic imaging exams.",
        "Run and calibrate lab analyzers.",
    ], ["ARRT or ASCP certification.", "Phlebotomy certification."]),
    "front_office": c("health", [
        "Patient Access Representative", "Medical Receptionist", "Medical Biller", "Medical Coder",
        "Revenue Cycle Specialist", "Front Desk Coordinator - Clinic", "Patient Scheduler",
    ], [
        "Register patients and verify insurance.", "Schedule appointments and answer phones.",
        "Code encounters with ICD-10 and CPT.", "Work denied claims and collections.",
    ], ["Medical office experience.", "Epic experience a plus.", "CPC certification for coders."]),
    "home_care": c("health", [
        "Caregiver", "Home Health Aide", "Personal Care Aide", "In-Home Caregiver", "Companion Caregiver",
    ], [
        "Help clients with bathing, meals and errands at home.", "Provide companionship and light housekeeping.",
        "Report changes in condition to the care coordinator.",
    ], ["Compassionate and reliable.", "HHA certification a plus."]),
    "behavioral": c("health", [
        "Licensed Clinical Social Worker", "Behavioral Health Technician", "Mental Health Counselor",
        "Substance Abuse Counselor", "Therapist (LPC)",
    ], [
        "Provide individual and group therapy.", "Complete assessments and treatment plans.",
        "Support patients in crisis.",
    ], ["LCSW, LPC or LMFT.", "Crisis intervention training."]),
    # ----------------------------------------------------------------------------------- logistics and retail
    "truck_driver": c("logistics", [
        "CDL-A Truck Driver", "OTR Driver", "Regional Truck Driver", "Class A Driver - Home Weekly",
        "Local CDL Driver", "Flatbed Driver",
    ], [
        "Haul freight on regional routes and deliver on time.", "Complete pre-trip inspections and ELD logs.",
        "Secure loads and follow DOT regulations.",
    ], ["Valid Class A CDL.", "Clean MVR.", "1 year of OTR experience."]),
    "delivery": c("logistics", [
        "Delivery Driver", "Courier", "Route Driver", "Package Delivery Associate", "Van Driver",
    ], [
        "Deliver packages on a local route.", "Load the van and scan every package.",
        "Collect signatures and provide great service.",
    ], ["Valid driver's license.", "Clean driving record."]),
    "warehouse": c("logistics", [
        "Warehouse Associate", "Forklift Operator", "Picker/Packer", "Material Handler", "Shipping Clerk",
        "Warehouse Supervisor", "Inventory Control Specialist",
    ], [
        "Pick, pack and ship orders accurately.", "Operate forklifts and pallet jacks.",
        "Receive inbound freight and cycle count inventory.",
    ], ["Forklift certification a plus.", "Able to lift 50 lbs."]),
    "dispatch": c("logistics", [
        "Dispatcher", "Logistics Coordinator", "Freight Broker", "Transportation Planner",
        "Supply Chain Analyst", "Load Planner",
    ], [
        "Plan routes and dispatch drivers.", "Book carriers and track shipments.",
        "Resolve delivery exceptions with customers.",
    ], ["TMS experience.", "Logistics degree or experience."]),
    "fleet_mech": c("logistics", [
        "Diesel Mechanic", "Fleet Technician", "Diesel Technician", "Trailer Mechanic", "Shop Foreman - Fleet",
    ], [
        "Repair and maintain tractors and trailers.", "Perform DOT inspections and PMs.",
        "Diagnose engine, brake and electrical faults.",
    ], ["Own tools.", "ASE certification a plus."]),
    "store_mgr": c("retail", [
        "Store Manager", "Assistant Store Manager", "Retail Store Manager", "Department Manager",
        "Shift Supervisor", "District Manager - Retail",
    ], [
        "Lead the store team and hit sales targets.", "Schedule staff and control labor costs.",
        "Coach associates on customer service.",
    ], ["Retail management experience.", "Open availability."]),
    "sales_assoc": c("retail", [
        "Sales Associate", "Retail Sales Associate", "Cashier", "Customer Service Associate",
        "Part-Time Sales Associate", "Keyholder",
    ], [
        "Help customers find products and complete purchases.", "Run the register and handle cash.",
        "Keep the sales floor clean and stocked.",
    ], ["Customer service experience a plus.", "Weekend availability."]),
    "stocker": c("retail", [
        "Stocker", "Overnight Stocker", "Merchandise Associate", "Receiving Associate", "Visual Merchandiser",
    ], [
        "Unload trucks and stock shelves.", "Set planograms and displays.", "Rotate stock and count inventory.",
    ], ["Able to lift 40 lbs.", "Overnight availability."]),
    "loss_prev": c("retail", [
        "Loss Prevention Associate", "Asset Protection Specialist", "Loss Prevention Manager",
    ], [
        "Prevent theft and investigate shrink.", "Monitor CCTV and conduct audits.",
    ], ["Loss prevention or security experience."]),
    # ---------------------------------------------------------------------------------- general board breadth
    "teacher": c("general", [
        "Elementary Teacher", "High School Math Teacher", "Special Education Teacher", "Substitute Teacher",
        "Preschool Teacher",
    ], [
        "Plan and deliver lessons aligned to state standards.", "Manage the classroom and assess student progress.",
        "Communicate with parents.",
    ], ["State teaching certificate.", "Bachelor's degree."]),
    "cook": c("general", [
        "Line Cook", "Prep Cook", "Sous Chef", "Kitchen Manager", "Cook - Full Time",
    ], [
        "Prepare food to recipe and plate dishes.", "Keep the kitchen clean and food safe.",
        "Stock the line before service.",
    ], ["Kitchen experience.", "ServSafe a plus."]),
    "server": c("general", [
        "Server", "Bartender", "Host/Hostess", "Banquet Server", "Barista",
    ], [
        "Take orders and serve guests.", "Mix drinks and run the bar.", "Greet and seat guests.",
    ], ["Friendly and energetic.", "Weekend availability."]),
    "accountant": c("general", [
        "Staff Accountant", "Senior Accountant", "Accounts Payable Clerk", "Bookkeeper", "Accounting Manager",
    ], [
        "Post journal entries and reconcile accounts.", "Process vendor invoices and payments.",
        "Support the month-end close.",
    ], ["Accounting degree.", "QuickBooks or NetSuite experience."]),
    "fin_analyst": c("general", [
        "Financial Analyst", "FP&A Analyst", "Senior Financial Analyst",
    ], [
        "Build forecasts and budgets.", "Analyze variances and present to leadership.",
    ], ["Finance degree.", "Advanced Excel."]),
    "teller": c("general", [
        "Bank Teller", "Personal Banker", "Loan Officer", "Mortgage Loan Processor",
    ], [
        "Process deposits and withdrawals.", "Open accounts and cross-sell products.", "Process loan files.",
    ], ["Cash handling experience.", "NMLS license for loan roles."]),
    "recruiter": c("general", [
        "Recruiter", "Technical Recruiter", "Talent Acquisition Partner", "HR Generalist", "HR Business Partner",
    ], [
        "Source candidates and manage the hiring pipeline.", "Advise managers on employee relations.",
    ], ["2+ years of recruiting or HR experience."]),
    "legal": c("general", [
        "Paralegal", "Legal Assistant", "Associate Attorney", "Litigation Paralegal", "Corporate Counsel",
    ], [
        "Draft pleadings and manage case files.", "Conduct legal research.", "Advise on contracts.",
    ], ["Paralegal certificate or JD.", "Law firm experience."]),
    "electrician": c("general", [
        "Electrician", "Journeyman Electrician", "Apprentice Plumber", "Commercial HVAC Installer", "Carpenter",
    ], [
        "Install conduit and wire on commercial job sites.", "Read blueprints and follow code.",
        "Work with the general contractor's superintendent.",
    ], ["Journeyman license.", "OSHA 10."]),
    "construction_pm": c("general", [
        "Construction Project Manager", "Superintendent", "Estimator", "Assistant Project Manager - Construction",
    ], [
        "Manage schedules, budgets and subcontractors on commercial construction projects.",
        "Prepare bids and estimates.",
    ], ["Construction management degree.", "Procore experience."]),
    "machinist": c("general", [
        "CNC Machinist", "Production Worker", "Machine Operator", "Industrial Maintenance Technician",
        "Assembler", "Welder",
    ], [
        "Set up and run CNC machines.", "Assemble products on the production line.",
        "Maintain plant equipment and PLCs.",
    ], ["Manufacturing experience.", "Blueprint reading."]),
    "claims": c("general", [
        "Claims Adjuster", "Insurance Agent", "Underwriter", "Customer Service Rep - Insurance",
    ], [
        "Investigate and settle auto claims.", "Quote and bind policies.", "Evaluate risks.",
    ], ["Adjuster license.", "P&C license."]),
    "marketing": c("general", [
        "Digital Marketing Manager", "SEO Specialist", "Content Writer", "Graphic Designer",
        "Social Media Manager",
    ], [
        "Run paid search and social campaigns.", "Write blog posts and email campaigns.",
        "Design graphics for campaigns.",
    ], ["Marketing degree.", "Google Ads certification."]),
    "social_work": c("general", [
        "Case Manager", "Social Worker", "Program Coordinator", "Youth Counselor", "Grant Writer",
    ], [
        "Manage a caseload of clients and connect them with services.", "Coordinate volunteers and programs.",
        "Write grant proposals.",
    ], ["Bachelor's in social work.", "Nonprofit experience."]),
    "auto_tech": c("general", [
        "Automotive Technician", "Lube Technician", "Service Advisor", "Car Sales Consultant",
        "Collision Repair Technician",
    ], [
        "Diagnose and repair vehicles.", "Sell new and used cars.", "Write up repair orders.",
    ], ["ASE certification.", "Own tools."]),
    # ------------------------------------- postings between two industries: publishers file them either way
    "hospital_data": c("general", [
        "Clinical Data Analyst", "Healthcare Data Analyst", "EHR Reporting Analyst", "Clinical Informatics Analyst",
    ], [
        "Build dashboards on patient data for our hospital's clinical leaders.",
        "Pull data from Epic with SQL and report on quality measures.",
        "Support nursing and physician leaders with analytics.",
        "Maintain reports for the health system's care teams.",
    ], ["SQL and Tableau.", "Hospital or clinic experience."]),
    "school_it": c("general", [
        "IT Support Technician - School District", "Technology Specialist", "Instructional Technology Specialist",
        "Campus Technology Technician",
    ], [
        "Support teachers and students with classroom devices and Chromebooks.",
        "Answer help desk tickets across the school district's campuses.",
        "Set up classroom technology before the school year.",
    ], ["IT support experience.", "CompTIA A+ a plus."]),
    "hotel_payroll": c("general", [
        "Payroll Coordinator", "HR & Payroll Assistant", "Payroll and Benefits Clerk",
    ], [
        "Run biweekly payroll for hotel and restaurant staff.",
        "Help the resort's managers with onboarding paperwork.",
        "Answer staff questions about pay and benefits.",
    ], ["Payroll experience.", "Hospitality experience a plus."]),
    "bank_marketing": c("general", [
        "Marketing Coordinator", "Communications Specialist", "Marketing Specialist - Community Bank",
    ], [
        "Support the bank's marketing campaigns for checking accounts and loans.",
        "Write social media posts and branch newsletters.",
        "Coordinate community events with branch managers.",
    ], ["Marketing degree.", "Financial services experience a plus."]),
    # --------------------------------------------------------------- postings that name no job at all
    "vague": c("general", [
        "Team Member", "General Application", "Associate", "Crew Member", "Join Our Team!", "Multiple Openings",
        "Work From Home Opportunity", "Part-Time Associate - Flexible Hours", "Entry Level Position",
    ], [
        "Flexible hours and weekly pay.", "No experience necessary; we train.", "Apply today and start next week!",
        "Great opportunity for the right person.", "Fast-paced, friendly environment.",
    ], ["Positive attitude.", "Must be 18 or older.", "Reliable transportation."]),
}
