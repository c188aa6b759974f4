#!/usr/bin/env python3
"""Writes the made-up inputs of the CHAIR fixture: a COCO-format annotations folder and answers.

    python make_inputs.py [--out DIR]   (default: this folder)

instances_val2014.json and captions_val2014.json have the layout of the real COCO 2014 files
(info, images, licenses, annotations, categories; the 80 real category ids, names and
supercategories) but made-up images, boxes, polygons and captions. answers.jsonl holds LLaVA-style
descriptions ({"question_id": image id, "text": ...}) chosen to exercise the reference's corners;
answers_caption.json the same kind of rows in chair.py's own form (a JSON list of
{"image_id", "caption"}). Pure Python, deterministic; make_fixture.py then scores them.
"""
import argparse
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

# COCO 2014/2017's 80 categories: (id, name, supercategory), ids as the real files have them.
CATEGORIES = [
    (1, "person", "person"), (2, "bicycle", "vehicle"), (3, "car", "vehicle"), (4, "motorcycle", "vehicle"),
    (5, "airplane", "vehicle"), (6, "bus", "vehicle"), (7, "train", "vehicle"), (8, "truck", "vehicle"),
    (9, "boat", "vehicle"), (10, "traffic light", "outdoor"), (11, "fire hydrant", "outdoor"),
    (13, "stop sign", "outdoor"), (14, "parking meter", "outdoor"), (15, "bench", "outdoor"),
    (16, "bird", "animal"), (17, "cat", "animal"), (18, "dog", "animal"), (19, "horse", "animal"),
    (20, "sheep", "animal"), (21, "cow", "animal"), (22, "elephant", "animal"), (23, "bear", "animal"),
    (24, "zebra", "animal"), (25, "giraffe", "animal"), (27, "backpack", "accessory"),
    (28, "umbrella", "accessory"), (31, "handbag", "accessory"), (32, "tie", "accessory"),
    (33, "suitcase", "accessory"), (34, "frisbee", "sports"), (35, "skis", "sports"), (36, "snowboard", "sports"),
    (37, "sports ball", "sports"), (38, "kite", "sports"), (39, "baseball bat", "sports"),
    (40, "baseball glove", "sports"), (41, "skateboard", "sports"), (42, "surfboard", "sports"),
    (43, "tennis racket", "sports"), (44, "bottle", "kitchen"), (46, "wine glass", "kitchen"),
    (47, "cup", "kitchen"), (48, "fork", "kitchen"), (49, "knife", "kitchen"), (50, "spoon", "kitchen"),
    (51, "bowl", "kitchen"), (52, "banana", "food"), (53, "apple", "food"), (54, "sandwich", "food"),
    (55, "orange", "food"), (56, "broccoli", "food"), (57, "carrot", "food"), (58, "hot dog", "food"),
    (59, "pizza", "food"), (60, "donut", "food"), (61, "cake", "food"), (62, "chair", "furniture"),
    (63, "couch", "furniture"), (64, "potted plant", "furniture"), (65, "bed", "furniture"),
    (67, "dining table", "furniture"), (70, "toilet", "furniture"), (72, "tv", "electronic"),
    (73, "laptop", "electronic"), (74, "mouse", "electronic"), (75, "remote", "electronic"),
    (76, "keyboard", "electronic"), (77, "cell phone", "electronic"), (78, "microwave", "appliance"),
    (79, "oven", "appliance"), (80, "toaster", "appliance"), (81, "sink", "appliance"),
    (82, "refrigerator", "appliance"), (84, "book", "indoor"), (85, "clock", "indoor"), (86, "vase", "indoor"),
    (87, "scissors", "indoor"), (88, "teddy bear", "indoor"), (89, "hair drier", "indoor"),
    (90, "toothbrush", "indoor"),
]

# image id -> (instance category names, ground-truth captions)
IMAGES = {
    42: (["person", "oven", "sink", "refrigerator", "bottle", "bottle", "cup", "knife", "dining table"],
         ["A man cooking in a kitchen next to a stove.",
          "A chef preparing food on a counter with knives and bottles.",
          "A cook standing in a small kitchen with a fridge.",
          "A person in a white kitchen making dinner.",
          "The kitchen has a sink, an oven and a refrigerator."]),
    73: (["motorcycle", "person", "person", "car", "traffic light", "bus"],
         ["A man riding a motor bike down a city street.",
          "Two people on a motorcycle stopped at a traffic light.",
          "A motorcyclist waits at the intersection behind a bus.",
          "People riding a scooter through traffic",
          "A couple on a motorbike next to cars on a busy road."]),
    74: (["dog", "couch", "remote", "tv"],
         ["A dog sleeping on a couch next to a remote control.",
          "A small puppy lying on the sofa.",
          "A brown dog resting in front of the television.",
          "A dog curled up on a couch in a living room."]),
    133: (["toilet", "sink"],
          ["A white toilet with the seat up next to a sink.",
           "A small bathroom with a toilet and a sink.",
           "A clean bathroom with white tile walls.",
           "The toilet seat is open in this bathroom."]),
    136: (["giraffe", "giraffe", "elephant"],
          ["Two giraffes standing next to a baby elephant.",
           "Giraffes and an elephant in an enclosure at the zoo.",
           "An adult giraffe eating leaves from a tree.",
           "Animals grazing in a fenced field."]),
    139: (["person", "tv", "chair", "chair", "couch", "potted plant", "clock", "vase", "book", "dining table",
           "refrigerator"],
          ["A woman standing in a living room with a television.",
           "A living room with a couch, chairs and a potted plant.",
           "A room with a fireplace, a clock on the wall and a vase of flowers.",
           "A person in a home with bookshelves and a dining table.",
           "A cozy living area with wooden furniture."]),
    143: (["bird", "bird", "bird", "bench", "boat"],
          ["Several seagulls sitting on a bench by the water.",
           "Birds perched on a wooden bench near the harbor.",
           "A flock of birds near boats at the dock.",
           "Pigeons gathered around a park bench."]),
    164: (["person", "skis", "backpack", "person"],
          ["A skier skiing down a snowy hill.",
           "Two people on skis at the top of a mountain.",
           "A man with a backpack cross country skiing.",
           "Skiers going down the slope on a sunny day."]),
    192: (["person", "person", "baseball bat", "baseball glove", "sports ball"],
          ["A batter swinging at a pitch at home plate.",
           "A baseball player swings his bat as the catcher waits.",
           "The catcher holds up his mitt during a baseball game.",
           "A baseball game in progress with a batter and a catcher."]),
    196: (["pizza", "wine glass", "wine glass", "fork", "knife", "cup", "dining table"],
          ["A pizza and two wine glasses on a table.",
           "A large pizza on a wooden table with forks and knives.",
           "A cheese pizza next to glasses of wine.",
           "A table set for dinner with pizza and drinks."]),
    208: (["airplane", "truck", "person"],
          ["A passenger jet parked at the gate of an airport.",
           "A large airplane on the tarmac with a truck next to it.",
           "A worker stands near a plane at the airport.",
           "An airliner being serviced by ground crew."]),
    241: (["bed", "teddy bear", "laptop", "cell phone", "book"],
          ["A teddy bear sitting on a bed next to a laptop.",
           "A bed with a stuffed animal, a phone and some books.",
           "A laptop computer open on a bed in a bedroom.",
           "A bedroom with a teddy bear on the pillows."]),
    257: (["cat", "laptop", "keyboard", "mouse"],
          ["A cat lying on a laptop keyboard.",
           "A kitten sitting next to a computer mouse.",
           "A cat stretched out across a desk with a laptop.",
           "A tabby cat sleeping on a keyboard."]),
    283: (["train", "person", "person", "bench", "umbrella", "handbag", "suitcase"],
          ["A train pulling into a station with people waiting.",
           "People with umbrellas and luggage on a train platform.",
           "A woman with a purse and a suitcase waiting for the train.",
           "A commuter train stopped at a station next to a bench."]),
    294: ([],
          ["A view of snowy mountains under a cloudy sky.",
           "Mountains covered in snow at sunset.",
           "A scenic landscape with peaks and clouds."]),
    307: (["person", "surfboard", "person"],
          ["A surfer riding a wave on a surfboard.",
           "Two people surfing in the ocean.",
           "A man paddling out on a longboard.",
           "A surfer in a wetsuit catching a wave."]),
}

# LLaVA-style descriptions: (image id, text). Repeated ids are scored row by row.
ANSWERS = [
    (42, "The image shows a man cooking in a kitchen. He is standing next to a stove, and there is a "
         "refrigerator on the left. A knife and some bottles are on the counter, along with a cup of coffee."),
    (42, "In the kitchen, a chef is preparing a meal. There are several knives, a cutting board, a microwave "
         "above the oven, and a bowl of apples on the table.\n\nThe sink is filled with dishes."),
    (42, "A person (probably a cook) stands by the oven; a toaster and a blender sit nearby. The fridge's door is open."),
    (73, "A man is riding a motor bike down a busy city street. There are cars and a bus behind him, and a traffic light is red."),
    (73, "Two people are on a motorcycle waiting at a traffic light. A truck and a taxi are parked nearby, and a "
         "stop sign can be seen on the corner. A bicycle is leaning against a fire hydrant."),
    (73, "The image depicts an urban scene with motorcycles, scooters, and pedestrians crossing the road."),
    (74, "A dog is sleeping on a couch. A remote control lies next to it, and a TV is on in the background."),
    (74, "A small puppy is lying on the sofa with a cat. There are two pillows and a blanket, and a laptop on the coffee table."),
    (74, "The dog's head rests on the armrest of the couch; the dog’s paws are crossed."),
    (133, "A white toilet with the seat up is next to a sink. There is a mirror above the sink and a towel rack."),
    (133, "The bathroom has a toilet, a sink, and a bathtub. A toothbrush and a cup are on the counter, and a hair drier hangs on the wall."),
    (133, "The toilet seat is down. The bathroom is clean, with white tiles."),
    (133, "There is a seat in the bathroom next to a toilet."),
    (136, "Two giraffes are standing next to a baby elephant in a zoo enclosure. An adult giraffe is eating leaves from a tree."),
    (136, "The image shows giraffes, elephants, and zebras grazing together. A bird is perched on a fence."),
    (136, "A BABY ELEPHANT WALKS BEHIND TWO GIRAFFES."),
    (139, "A woman is standing in a living room. There is a TV, a couch, two chairs, a potted plant, and a clock on the wall. "
          "A vase of flowers is on the dining table, and a dog is lying on the rug."),
    (139, "The living room is cozy: a sofa, a television, bookshelves full of books, and a refrigerator in the kitchen area."),
    (139, "A person is seated on a chair reading a book. The seated person is wearing glasses."),
    (143, "Several seagulls are sitting on a bench by the water. In the distance, there are boats and a lighthouse."),
    (143, "Birds (pigeons, mostly) are perched on a wooden bench. A person is feeding them, and a dog watches nearby."),
    (143, "A flock of geese near the dock; a boat is tied up and a kite flies above."),
    (164, "A skier is skiing down a snowy hill. He has a backpack and ski poles, and there are other people skiing in the distance."),
    (164, "Two people on skis at the top of a mountain, with a snowboard stuck in the snow. The skiing conditions look great."),
    (164, "A man with a backpack is cross-country skiing. There are trees and a cabin nearby."),
    (192, "A baseball player swings his bat at a pitch. The catcher and the umpire crouch behind home plate, and a baseball glove is visible."),
    (192, "A batter is swinging at the ball during a baseball game. Fans are in the stands, and a hot dog vendor walks by."),
    (192, "The pitcher throws the ball to the batter, who holds a baseball bat."),
    (196, "A pizza and two wine glasses are on a table. There are forks, knives, and a cup of water, plus a bottle of wine."),
    (196, "A large pizza sits on a wooden table with a fork and a knife. A bowl of salad and a sandwich are next to it."),
    (196, "A cheese pizza next to glasses of wine… and a cheesecake for dessert. Yum!"),
    (208, "A passenger jet is parked at the gate of an airport. A truck is next to the airplane, and a worker stands nearby."),
    (208, "A large airplane on the tarmac. Luggage carts, a bus and a car are around it, and a passenger train passes in the background."),
    (208, "An airliner is being serviced by ground crew; people are boarding the plane."),
    (241, "A teddy bear is sitting on a bed next to a laptop. A cell phone and some books are on the nightstand."),
    (241, "The bedroom has a bed with teddy bears, a laptop computer, an iPhone, and a lamp. A cat is sleeping on the pillow."),
    (241, "There is a stuffed animal on the bed, a smartphone, and a remote."),
    (257, "A cat is lying on a laptop keyboard. There is a computer mouse next to it and a cup of coffee."),
    (257, "A kitten is sitting next to a computer mouse. There is a monitor, a keyboard, and a potted plant on the desk."),
    (257, "The tabby cat is sleeping on a keyboard; a pair of scissors and a notebook are nearby."),
    (283, "A train is pulling into a station with people waiting on the platform. Some carry umbrellas and suitcases."),
    (283, "People with umbrellas and luggage on a train platform. A woman holds a purse, and a man sits on a bench."),
    (283, "A commuter train stopped at a station. There are train tracks, a clock, and a bench."),
    (294, "The image shows snowy mountains under a cloudy sky. There are no people or animals."),
    (294, "A scenic landscape with a lake, a boat, and a few birds flying."),
    (294, ""),
    (307, "A surfer is riding a wave on a surfboard. Another person is surfing nearby."),
    (307, "A man is paddling out on a longboard. The ocean is calm, and a dog is playing on the beach."),
    (307, "Surfers in wetsuits catch waves (the waves are big!). \"Awesome,\" he said."),
    (999999, "A dog and a cat are sitting on a couch."),
    (42, "In the café, a barista prepares a crème brûlée; the naïve customer waits — with an apple and a banana."),
    (74, "“A dog,” she said, ‘on the couch.’ It's a dog's life... isn't it?"),
    (139, "There are 3,000 books and 3.5 chairs. The clock reads 10:30, and the TV costs $500 (cheap!)."),
    (164, "People skiing. Skiing people. The skiing people can't stop skiing."),
    (192, "I cannot see any person. Gonna guess there's a baseball bat & a glove, e.g. near home plate."),
    (196, "A HOT DOG, A HOT-DOG, AND TWO HOT DOGS ON A DINING TABLE."),
    (241, "Mr. Bear (the teddy bear) sits on the bed. Dr. Smith's laptop is on the desk!"),
    (283, "The image shows a red bus, two buses, children, women, men, mice, and oxen near the station."),
    (307, "A surfer, a surfboard, and a wave.\n1. A surfboard\n2. A person\n3. A shark"),
    (133, "The bathroom's toilet has a bow tie on its lid, and there is a wine glass on the sink."),
    (42, "This picture doesn't show anything recognizable."),
    (136, "An elephant's trunk, a giraffe's neck and a zebra's stripes: that's all."),
    (257, "A cat, a kitten and a puppy are sleeping together on a keyboard; a mobile phone is charging."),
]

# The same kind of rows in chair.py's own form.
CAPTION_ROWS = [
    (74, "A dog sleeping on a couch."),
    (257, "A cat on a laptop next to a dog."),
    (999999, "A bus."),
]


def polygon(rng, box):
    x, y, w, h = box
    pts = []
    for _ in range(6):
        pts += [round(x + rng.random() * w, 2), round(y + rng.random() * h, 2)]
    return [pts]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    rng = random.Random(2014)
    by_name = {name: cid for cid, name, _ in CATEGORIES}
    info = {"description": "CHAIR test fixture in the layout of COCO 2014 (made-up images and annotations)",
            "url": "http://mscoco.org", "version": "1.0", "year": 2014, "contributor": "seva tests",
            "date_created": "2015-01-27 09:11:52.357475"}
    licenses = [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 1,
                 "name": "Attribution-NonCommercial-ShareAlike License"}]
    images = []
    for image_id in sorted(IMAGES, reverse=True):  # the real files are not sorted by id either
        w, h = rng.choice([(640, 480), (480, 640), (640, 427), (500, 375)])
        images.append({"license": 1, "file_name": "COCO_val2014_%012d.jpg" % image_id,
                       "coco_url": "http://mscoco.org/images/%d" % image_id, "height": h, "width": w,
                       "date_captured": "2013-11-14 16:28:13",
                       "flickr_url": "http://farm3.staticflickr.com/2/%d_0000000000_z.jpg" % image_id,
                       "id": image_id})
    size = {im["id"]: (im["width"], im["height"]) for im in images}
    instances, captions = [], []
    ann_id, cap_id = 100000, 700000
    for image_id, (objects, caps) in IMAGES.items():
        w, h = size[image_id]
        for name in objects:
            bw, bh = round(rng.uniform(20, w / 2), 2), round(rng.uniform(20, h / 2), 2)
            box = [round(rng.uniform(0, w - bw), 2), round(rng.uniform(0, h - bh), 2), bw, bh]
            ann_id += 1
            instances.append({"segmentation": polygon(rng, box), "area": round(bw * bh * 0.6, 4), "iscrowd": 0,
                              "image_id": image_id, "bbox": box, "category_id": by_name[name], "id": ann_id})
        for text in caps:
            cap_id += 1
            captions.append({"image_id": image_id, "id": cap_id, "caption": text})
    categories = [{"supercategory": sup, "id": cid, "name": name} for cid, name, sup in CATEGORIES]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "instances_val2014.json"), "w") as f:
        json.dump({"info": info, "images": images, "licenses": licenses, "annotations": instances,
                   "categories": categories}, f)
    with open(os.path.join(args.out, "captions_val2014.json"), "w") as f:
        json.dump({"info": info, "images": images, "licenses": licenses, "annotations": captions}, f)
    with open(os.path.join(args.out, "answers.jsonl"), "w") as f:
        for image_id, text in ANSWERS:
            f.write(json.dumps({"question_id": image_id, "prompt": "Please describe this image in detail.",
                                "text": text, "model_id": "made-up"}, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "answers_caption.json"), "w") as f:
        json.dump([{"image_id": i, "caption": c} for i, c in CAPTION_ROWS], f, indent=1)


if __name__ == "__main__":
    main()
