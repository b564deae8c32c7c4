"""Word lists the robot task generator draws from: people, rooms, objects and answer options.

Room and object names are lowercase, as in the benchmark's world states; the instructions capitalise
people's names. Names that are substrings of each other (``kitchen``/``kitchenette``) may both be
listed: the world builder never puts two such names into one world (the simulator matches by
substring search, so one would shadow the other).
"""

from __future__ import annotations

PEOPLE = (
    "Priya", "Omar", "Lena", "Mateo", "Hana", "Kwame", "Ingrid", "Ravi", "Sofia", "Diego", "Mei", "Tariq",
    "Elena", "Jonas", "Aisha", "Nikolai", "Yuki", "Fatima", "Lucas", "Zara", "Emeka", "Greta", "Hiro",
    "Nadia", "Pablo", "Chloe", "Dmitri", "Leila", "Oscar", "Ines", "Kenji", "Marta", "Victor", "Noor",
    "Felix", "Rosa", "Anil", "Beatriz", "Caleb", "Dana", "Ezra", "Freya", "Gustavo", "Helen", "Ivan",
    "Julia", "Kofi", "Laura", "Miguel", "Nina", "Olga", "Pedro", "Quinn", "Rahul", "Sana", "Theo",
    "Uma", "Vera", "Wen", "Ximena", "Yara", "Zoe", "Bianca", "Cyrus", "Delia", "Emil", "Farah", "Goran",
)

# Rooms that appear once in a building.
PLACES = (
    "kitchen", "lobby", "mail room", "library", "break room", "storage room", "copy room", "gym", "cafeteria",
    "reception", "garage", "server room", "lounge", "workshop", "laundry room", "pantry", "supply closet",
    "game room", "music room", "front desk", "archive", "greenhouse", "loading dock", "chemistry lab",
    "robotics lab", "studio", "boardroom", "nurse station", "electrical room", "bike storage", "rooftop terrace",
    "parking office", "recording booth", "waiting area", "staff room", "photo lab", "break area", "atrium",
)

# Rooms that come in numbered series ("printer room 1", "printer room 2", ...).
NUMBERED = (
    "printer room", "conference room", "classroom", "meeting room", "study room", "seminar room", "guest room",
    "exam room", "practice room", "storage unit", "lecture hall", "phone booth",
)

# Rooms that belong to a person ("priya's office").
POSSESSIVE = ("office", "lab", "study", "cubicle", "desk", "workspace")

OBJECTS = (
    "stapler", "laptop", "charger", "umbrella", "water bottle", "notebook", "marker", "backpack", "mug",
    "flashlight", "calculator", "tape measure", "headphones", "keyboard", "blanket", "plant", "folder", "tablet",
    "camera", "first aid kit", "toolbox", "helmet", "yoga mat", "tennis ball", "extension cord", "clipboard",
    "thermos", "scarf", "hole punch", "envelope", "package", "whiteboard eraser", "lunch box",
    "jacket", "sunglasses", "book", "sketchbook", "screwdriver", "projector remote",
)

# Sets of answer options for surveys; no option is a substring of another in the same set.
OPTION_SETS = (
    ("pizza", "salad", "sushi", "tacos", "soup"),
    ("coffee", "tea", "orange juice", "sparkling water", "hot chocolate"),
    ("monday", "tuesday", "wednesday", "thursday", "friday"),
    ("9 am", "11 am", "2 pm", "4 pm"),
    ("red", "blue", "green", "yellow", "purple"),
    ("hiking", "bowling", "a movie night", "karaoke", "board games"),
    ("the mountains", "the beach", "the city", "the countryside"),
    ("chess", "soccer", "basketball", "tennis", "swimming"),
    ("jazz", "rock", "classical", "hip hop", "country"),
    ("spring", "summer", "autumn", "winter"),
    ("cats", "dogs", "birds", "fish"),
    ("vanilla", "chocolate", "strawberry", "mint"),
)

# What each option set is about, for questions like "Which {topic} would you prefer?".
OPTION_TOPICS = (
    "lunch", "drink", "day for the team meeting", "time for the review", "color for the new logo",
    "team outing", "destination for the retreat", "sport for the tournament", "music for the party",
    "season for the company trip", "pet for the office", "ice cream flavor",
)

MESSAGES = (
    "the fire alarm test starts in ten minutes",
    "the building closes early today",
    "there are free bagels in the break room",
    "the network will be down at noon",
    "the quarterly review has been moved to Thursday",
    "the plants on this floor need watering",
    "the elevator is out of service",
    "the visitors arrive at three",
    "the parking lot will be repainted tomorrow",
    "the all-hands meeting starts soon",
    "someone left their car lights on",
    "the new coffee machine is working",
)

# What a message must mention to count as delivered (completion checks): its distinctive words, each a
# pattern (an alternation is one word), so that a paraphrase passes and another message does not.
MESSAGE_KEYWORDS = {
    "the fire alarm test starts in ten minutes": ("alarm", "ten|10"),
    "the building closes early today": ("clos", "early"),
    "there are free bagels in the break room": ("bagel",),
    "the network will be down at noon": ("network", "noon|12"),
    "the quarterly review has been moved to Thursday": ("review", "thursday"),
    "the plants on this floor need watering": ("plant", "water"),
    "the elevator is out of service": ("elevator", "service|order|broken|working"),
    "the visitors arrive at three": ("visitor", "three|3"),
    "the parking lot will be repainted tomorrow": ("parking", "paint"),
    "the all-hands meeting starts soon": ("all.hands", "meeting"),
    "someone left their car lights on": ("car", "light"),
    "the new coffee machine is working": ("coffee machine|coffee maker",),
}

YES_NO_QUESTIONS = (
    ("join the book club", "joins the book club"),
    ("come to the staff lunch", "comes to the staff lunch"),
    ("sign up for the hackathon", "signs up for the hackathon"),
    ("help with the move on Saturday", "helps with the move"),
    ("present at the demo day", "presents at the demo day"),
    ("share a taxi to the airport", "shares a taxi"),
    ("attend the safety training", "attends the safety training"),
    ("volunteer for the charity run", "volunteers for the charity run"),
)
