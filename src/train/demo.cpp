// demo.cpp — a synthetic world with the statistical shape of image-text matching.
//
// World model. Every image is a scene with 2-3 objects. The first object (a person or an animal)
// is the subject and does something to the second one ("a man riding a bike"); a third object
// may stand nearby. Every object has a colour. There are ~26 object types, 10 colours, 12
// relations and 10 scenes, so images share parts and differ in combinations.
//
// Region features (BUTD stand-in, 36 x 2048, non-negative like pooled CNN features). Each concept c
// has a fixed random visual direction u_c. An object with colour k shows up as 3-4 regions
// relu(u_obj + 0.6 u_colour + noise) with |noise| ~ 1.2; a relation adds 2 regions mixing the
// relation with both objects; the scene adds 3 regions; 2-3 clutter objects that no caption names
// look exactly like named ones (3 regions each); the rest is background noise.
//
// Captions (5 per image) are English sentences from several templates, with synonyms; each one
// mentions only part of the content: the subject always, its colour, the relation, the other
// objects and the scene each only sometimes.
//
// VSD embeddings (BGE stand-ins, 1024-d, unit norm). Each concept also has a text direction t_c,
// and a shared direction g gives the anisotropy of real BGE space.
//   caption embedding  e_c = l2n(0.9 g + sum of the concepts this caption mentions + wording noise)
//   description, † (MiniCPM-V, sees the image and its captions): all of the image's concepts
//   description, ⋆ (Florence-2, sees the image only): each concept kept with p 0.8, relations
//                  with p 0.5, and 1.5x the noise
// So a description carries what no single caption has, and † carries more than ⋆: the property
// that makes the paper's fusion help. Prototype centroids are k-means (K = 64) of the training
// images' † descriptions, as `make prototypes` computes them.
#include "demo.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "../core/check.h"
#include "../core/rng.h"
#include "../data/dataset.h"
#include "../data/json.h"
#include "../data/npy.h"
#include "../data/clip_tokenizer.h"
#include "pca.h"
#include "../data/png.h"
#include "../data/tokenizer.h"
#include "kmeans.h"

namespace vsd {
namespace {

enum Kind { Person, Animal, Thing };
struct Object {
    const char* name;
    const char* alt;  // a synonym for variety
    Kind kind;
};
const Object kObjects[] = {
    {"man", "guy", Person},       {"woman", "lady", Person},       {"boy", "kid", Person},
    {"girl", "young girl", Person}, {"dog", "puppy", Animal},      {"cat", "kitten", Animal},
    {"horse", "pony", Animal},    {"bird", "bird", Animal},        {"bicycle", "bike", Thing},
    {"car", "car", Thing},        {"ball", "ball", Thing},         {"kite", "kite", Thing},
    {"surfboard", "surfboard", Thing}, {"skateboard", "skateboard", Thing}, {"guitar", "guitar", Thing},
    {"umbrella", "umbrella", Thing}, {"bench", "bench", Thing},    {"boat", "boat", Thing},
    {"frisbee", "frisbee", Thing}, {"backpack", "bag", Thing},     {"table", "table", Thing},
    {"tent", "tent", Thing},      {"chair", "chair", Thing},       {"bucket", "pail", Thing},
    {"book", "book", Thing},      {"truck", "truck", Thing},
};
const int kNumObjects = sizeof(kObjects) / sizeof(kObjects[0]);
const char* kColours[] = {"red", "blue", "green", "yellow", "black", "white", "brown", "orange", "pink", "gray"};
const char* kGarments[] = {"shirt", "jacket", "dress", "hat", "sweater", "coat"};
struct Relation {
    const char* s;    // "rides"
    const char* ing;  // "riding"
    bool person_only;
    std::vector<int> objects;  // allowed object types (indices into kObjects)
};
std::vector<Relation> relations() {
    return {
        {"rides", "riding", true, {6, 8, 12, 13, 17}},
        {"holds", "holding", true, {5, 7, 10, 11, 14, 15, 18, 19, 23, 24}},
        {"throws", "throwing", true, {10, 18}},
        {"sits on", "sitting on", false, {16, 20, 22, 8}},
        {"plays with", "playing with", false, {4, 5, 10, 11, 18}},
        {"walks with", "walking with", true, {0, 1, 2, 3, 4, 6}},
        {"stands next to", "standing next to", false, {9, 16, 17, 21, 25, 20}},
        {"looks at", "looking at", false, {7, 9, 17, 24, 25}},
        {"chases", "chasing", false, {5, 7, 10, 18}},
        {"jumps over", "jumping over", false, {16, 22, 23}},
        {"carries", "carrying", true, {15, 19, 23, 24, 14}},
        {"leans on", "leaning on", false, {9, 16, 20, 25}},
    };
}
const char* kScenes[] = {"in a park", "on the beach", "on a busy street", "in the snow", "by a lake",
                         "in a kitchen", "in a city square", "on a forest trail", "on a stage", "at a playground"};
const int kNumScenes = 10;

// concept ids in one table: objects, colours, relations, scenes
struct Concepts {
    int obj(int i) const { return i; }
    int colour(int k) const { return kNumObjects + k; }
    int rel(int r) const { return kNumObjects + 10 + r; }
    int scene(int s) const { return kNumObjects + 10 + 12 + s; }
    int count() const { return kNumObjects + 10 + 12 + kNumScenes; }
};

struct Scene {
    int scene;
    std::vector<int> obj, colour, garment;
    int rel;        // relation of obj[0] -> obj[1]
    bool near2;     // obj[2] (if any) stands near the subject
};

// ---- pictures ----------------------------------------------------------------------------------
// Each image is also drawn, so reports and searches have something to show: the scene as sky and
// ground colours, the named objects as simple figures in their colours (a person: head and body; an
// animal: body, head and legs; a thing: a box, disc, triangle or bar), the subject on the left,
// riding or sitting on its object when the relation says so. The features do not come from the
// pictures (they come from the concepts, above); a picture is the same scene drawn for people.
struct Canvas {
    static constexpr int W = 128, H = 96;
    std::vector<uint8_t> px = std::vector<uint8_t>(W * H * 3);
    void rect(int x0, int y0, int x1, int y1, const uint8_t* c) {
        for (int y = std::max(0, y0); y < std::min(H, y1); y++)
            for (int x = std::max(0, x0); x < std::min(W, x1); x++) std::copy(c, c + 3, &px[(y * W + x) * 3]);
    }
    void disc(int cx, int cy, int r, const uint8_t* c) {
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) rect(x, y, x + 1, y + 1, c);
    }
    void triangle(int cx, int top, int half, int height, const uint8_t* c) {  // apex up
        for (int y = 0; y < height; y++) rect(cx - half * y / height, top + y, cx + half * y / height + 1, top + y + 1, c);
    }
};

const uint8_t kColourRgb[10][3] = {{220, 40, 40},  {40, 80, 220},  {40, 170, 60},  {240, 215, 40}, {25, 25, 25},
                                   {250, 250, 250}, {140, 90, 40}, {250, 140, 20}, {250, 150, 200}, {130, 130, 130}};
const uint8_t kSceneRgb[kNumScenes][2][3] = {
    {{150, 200, 240}, {90, 170, 80}},   {{140, 200, 250}, {235, 215, 160}}, {{180, 190, 200}, {100, 100, 105}},
    {{215, 225, 235}, {245, 248, 250}}, {{150, 200, 240}, {60, 110, 190}},  {{235, 225, 200}, {170, 120, 80}},
    {{170, 185, 205}, {160, 155, 150}}, {{70, 120, 70}, {120, 90, 60}},     {{40, 30, 50}, {150, 40, 40}},
    {{150, 200, 240}, {220, 170, 110}}};

// object o of the image, standing with its feet at (x, ground); scale 1 or smaller
void draw_object(Canvas& cv, const Scene& im, size_t o, int x, int ground, float scale) {
    const uint8_t* c = kColourRgb[im.colour[o]];
    const uint8_t skin[3] = {235, 195, 160}, dark[3] = {60, 50, 45};
    auto S = [&](int v) { return std::max(1, (int)std::lround(v * scale)); };
    const int which = im.obj[o];
    switch (kObjects[which].kind) {
        case Person:  // legs, body (the colour: their clothes), head
            cv.rect(x - S(5), ground - S(12), x - S(1), ground, dark);
            cv.rect(x + S(1), ground - S(12), x + S(5), ground, dark);
            cv.rect(x - S(7), ground - S(32), x + S(7), ground - S(12), c);
            cv.disc(x, ground - S(38), S(6), skin);
            break;
        case Animal:  // legs, body, head
            cv.rect(x - S(11), ground - S(8), x - S(8), ground, dark);
            cv.rect(x + S(7), ground - S(8), x + S(10), ground, dark);
            cv.rect(x - S(13), ground - S(18), x + S(12), ground - S(7), c);
            cv.disc(x + S(14), ground - S(20), S(6), c);
            break;
        case Thing:
            switch (which % 4) {
                case 0: cv.rect(x - S(15), ground - S(14), x + S(15), ground, c); break;             // a box
                case 1: cv.disc(x, ground - S(8), S(8), c); break;                                    // a disc
                case 2: cv.triangle(x, ground - S(22), S(13), S(22), c); break;                       // a triangle
                default: cv.rect(x - S(4), ground - S(26), x + S(4), ground, c); break;              // a bar
            }
            break;
    }
}

std::string draw_scene(const Scene& im, const std::vector<Relation>& rels) {
    Canvas cv;
    const int horizon = 50, ground = 84;
    cv.rect(0, 0, Canvas::W, horizon, kSceneRgb[im.scene][0]);
    cv.rect(0, horizon, Canvas::W, Canvas::H, kSceneRgb[im.scene][1]);
    if (im.obj.size() > 2) draw_object(cv, im, 2, 108, horizon + 22, 0.6f);  // the third, further away
    const std::string rel = rels[im.rel].s;
    const bool on_top = rel == "rides" || rel == "sits on" || rel == "jumps over";
    if (on_top) {  // the object below, the subject on it
        draw_object(cv, im, 1, 56, ground, 1.0f);
        draw_object(cv, im, 0, 52, ground - (rel == "jumps over" ? 30 : 12), 0.9f);
    } else {
        draw_object(cv, im, 1, 82, ground, 1.0f);
        draw_object(cv, im, 0, 40, ground, 1.0f);
    }
    return png_encode(cv.px.data(), Canvas::W, Canvas::H);
}

const char* article(const std::string& next) {
    return (next[0] == 'a' || next[0] == 'e' || next[0] == 'i' || next[0] == 'o' || next[0] == 'u') ? "an" : "a";
}

Scene sample_scene(Rng& rng, const std::vector<Relation>& rels) {
    Scene im;
    im.scene = (int)rng.randint(kNumScenes);
    int subj;
    do subj = (int)rng.randint(kNumObjects);
    while (kObjects[subj].kind == Thing || (kObjects[subj].kind == Animal && rng.uniform() < 0.4f));
    int r;
    do r = (int)rng.randint(rels.size());
    while (rels[r].person_only && kObjects[subj].kind != Person);
    int o1;
    do o1 = rels[r].objects[rng.randint(rels[r].objects.size())];
    while (o1 == subj);
    im.obj = {subj, o1};
    im.rel = r;
    im.near2 = rng.uniform() < 0.6f;
    if (im.near2) {
        int o2;
        do o2 = (int)rng.randint(kNumObjects);
        while (o2 == subj || o2 == o1);
        im.obj.push_back(o2);
    }
    for (size_t i = 0; i < im.obj.size(); i++) {
        im.colour.push_back((int)rng.randint(10));
        im.garment.push_back((int)rng.randint(6));
    }
    return im;
}

// noun phrase for object i of the image, with or without its colour
std::string noun_phrase(const Scene& im, int i, bool colour, Rng& rng, bool definite) {
    const Object& o = kObjects[im.obj[i]];
    std::string noun = rng.uniform() < 0.7f ? o.name : o.alt;
    std::string col = kColours[im.colour[i]];
    std::string np;
    if (colour && o.kind == Person) {
        float v = rng.uniform();
        std::string g = kGarments[im.garment[i]];
        if (v < 0.5f) np = noun + " in " + article(col) + " " + col + " " + g;
        else np = noun + " wearing " + article(col) + " " + col + " " + g;
    } else if (colour) {
        np = col + " " + noun;
    } else {
        np = noun;
    }
    return std::string(definite ? "the" : article(np)) + " " + np;
}

// one caption; `said` receives the concepts it mentions
std::string caption(const Scene& im, const std::vector<Relation>& rels, Rng& rng, std::vector<int>& said) {
    Concepts C;
    said.clear();
    bool c0 = rng.uniform() < 0.5f, rel = rng.uniform() < 0.7f, c1 = rng.uniform() < 0.4f;
    bool third = im.obj.size() > 2 && rng.uniform() < 0.35f, scene = rng.uniform() < 0.5f;
    said.push_back(C.obj(im.obj[0]));
    if (c0) said.push_back(C.colour(im.colour[0]));
    if (rel) {
        said.push_back(C.rel(im.rel));
        said.push_back(C.obj(im.obj[1]));
        if (c1) said.push_back(C.colour(im.colour[1]));
    }
    if (third) said.push_back(C.obj(im.obj[2]));
    if (scene) said.push_back(C.scene(im.scene));
    const Relation& R = rels[im.rel];
    std::string subj = noun_phrase(im, 0, c0, rng, false);
    std::string s;
    int tmpl = (int)rng.randint(4);
    if (rel) {
        std::string obj = noun_phrase(im, 1, c1, rng, false);
        if (tmpl == 0) s = subj + " " + R.s + " " + obj;
        else if (tmpl == 1) s = subj + " is " + R.ing + " " + obj;
        else if (tmpl == 2 && scene) { s = std::string(kScenes[im.scene]) + " , " + subj + " " + R.s + " " + obj; scene = false; }
        else s = subj + " " + R.ing + " " + obj;  // a noun phrase, as many real captions are
    } else {
        s = tmpl < 2 ? "there is " + subj : subj;
    }
    if (third) s += (rng.uniform() < 0.5f ? " near " : " and ") + noun_phrase(im, 2, false, rng, false);
    if (scene) s += std::string(" ") + kScenes[im.scene];
    s += " .";
    s[0] = (char)toupper(s[0]);
    return s;
}

std::vector<float> unit(std::vector<float> v) {
    double n = 0;
    for (float x : v) n += (double)x * x;
    float inv = (float)(1.0 / std::sqrt(n + 1e-30));
    for (float& x : v) x *= inv;
    return v;
}

std::vector<float> random_dir(Rng& rng, int d) {
    std::vector<float> v(d);
    for (float& x : v) x = rng.normal();
    return unit(v);
}

}  // namespace

std::vector<std::string> release_precomp_files(const std::string& layout) {
    ENSURE(layout == "f30k" || layout == "coco", "--layout must be f30k or coco, got '%s'", layout.c_str());
    const bool coco = layout == "coco";
    const std::string test = coco ? "testall" : "test";
    std::vector<std::string> f;
    std::vector<std::string> scan = {"train", "dev", "test"};
    if (coco) scan.push_back("testall");
    for (const std::string& s : scan)
        for (const char* x : {"_ims.npy", "_caps.txt", "_ids.txt"}) f.push_back(s + x);
    for (const std::string& s : {std::string("train"), test}) {
        f.push_back(s == "train" ? "train_aux_cap_bge_cpm_full.npy" : s + "_aux_cap_bge_cpm_full_1.npy");
        f.push_back(s + "_aux_cap_bge_flor_det.npy");
        f.push_back(s + "_cap_bge.npy");      // GPO+VSD's loader
        f.push_back(s + "_cap_bge_cpm.npy");  // HREM+VSD's loader (listed under "......" in the seed)
    }
    std::sort(f.begin(), f.end());
    return f;
}

std::string make_demo_dataset(const DemoOptions& opt) {
    ENSURE(opt.n_train > 0 && opt.n_dev > 0 && opt.n_test > 0, "demo sizes must be positive");
    ENSURE(opt.layout == "f30k" || opt.layout == "coco", "--layout must be f30k or coco, got '%s'", opt.layout.c_str());
    ENSURE(opt.layout != "coco" || opt.n_test % 5 == 0, "--layout coco: --n_test must be a multiple of 5 (testall's 5 folds), got %d",
           opt.n_test);
    ENSURE(opt.regions >= 20, "the demo needs at least 20 regions per image, got %d", opt.regions);
    auto t0 = std::chrono::steady_clock::now();
    const std::string root = opt.data_path + "/" + opt.name, dir = root + "/precomp";
    make_dirs(dir);
    // written last: a generation killed halfway leaves no marker, and make regenerates the demo
    const std::string marker = root + "/.complete";
    std::remove(marker.c_str());
    make_dirs(opt.data_path + "/vocab");
    make_dirs(root + "/proto");
    if (opt.pictures) make_dirs(root + "/images");
    const std::vector<Relation> rels = relations();
    Concepts C;
    const int F = opt.feat_dim, E = opt.emb_dim, R = opt.regions;

    // the world's fixed directions, from the seed
    Rng world(opt.seed * 1000003ull + 17);
    std::vector<std::vector<float>> u(C.count()), t(C.count());
    for (int c = 0; c < C.count(); c++) u[c] = random_dir(world, F);
    for (int c = 0; c < C.count(); c++) t[c] = random_dir(world, E);
    std::vector<float> g = random_dir(world, E);
    const float sqrtF = std::sqrt((float)F);
    const float kNoise = 1.2f;  // |noise| ~ 1.2 x |one concept|: regions are far from clean

    auto embed = [&](const std::vector<int>& concepts, float noise, Rng& rng) {
        std::vector<float> v(E);
        for (int k = 0; k < E; k++) v[k] = 0.9f * g[k] + noise * rng.normal() / std::sqrt((float)E);
        for (int c : concepts)
            for (int k = 0; k < E; k++) v[k] += t[c][k];
        return unit(v);
    };

    std::vector<std::string> vocab_caps;
    std::vector<std::vector<float>> train_desc;  // per train image, † description
    const bool coco = opt.layout == "coco";
    // COCO's 5K test split is "testall" (its first fifth is also written as "test", as SCAN's is)
    const struct { const char* split; int n; } splits[] = {{"train", opt.n_train}, {"dev", opt.n_dev},
                                                           {coco ? "testall" : "test", opt.n_test}};
    int64_t id_base = 0;
    std::string mapping = "{";
    for (const auto& sp : splits) {
        // (the test split draws from the same stream under either name)
        Rng rng(opt.seed * 7919ull + (uint64_t)(sp.split[0]) * 131 + (uint64_t)sp.n);
        const int N = sp.n;
        std::vector<float> ims((size_t)N * R * F);
        std::vector<float> cpm((size_t)N * 5 * E), flor((size_t)N * 5 * E), capemb((size_t)N * 5 * E);
        std::string caps_txt, ids_txt;
        for (int i = 0; i < N; i++) {
            Scene im = sample_scene(rng, rels);
            // ---- regions ----
            std::vector<std::vector<float>> regs;
            auto region = [&](std::vector<std::pair<int, float>> mix, float noise) {
                std::vector<float> r(F);
                for (int k = 0; k < F; k++) {
                    float v = noise * rng.normal() / sqrtF;
                    for (auto& m : mix) v += m.second * u[m.first][k];
                    r[k] = std::max(0.0f, v) * 20.0f;  // non-negative, O(1) values like BUTD
                }
                regs.push_back(std::move(r));
            };
            for (size_t o = 0; o < im.obj.size(); o++) {
                int n = 3 + (int)rng.randint(2);
                for (int k = 0; k < n; k++) region({{C.obj(im.obj[o]), 1.0f}, {C.colour(im.colour[o]), 0.6f}}, kNoise);
            }
            for (int k = 0; k < 2; k++) region({{C.rel(im.rel), 1.0f}, {C.obj(im.obj[0]), 0.4f}, {C.obj(im.obj[1]), 0.4f}}, kNoise);
            for (int k = 0; k < 3; k++) region({{C.scene(im.scene), 1.0f}}, kNoise);
            // clutter: 2-3 objects the captions never name, drawn exactly like the named ones
            const int n_clutter = 2 + (int)rng.randint(2);
            for (int q = 0; q < n_clutter && (int)regs.size() + 3 <= R; q++) {
                int c = (int)rng.randint(kNumObjects), col = (int)rng.randint(10);
                for (int k = 0; k < 3; k++) region({{C.obj(c), 1.0f}, {C.colour(col), 0.6f}}, kNoise);
            }
            while ((int)regs.size() < R) region({}, kNoise);  // background: noise only
            regs.resize(R);
            for (int k = R - 1; k > 0; k--) std::swap(regs[k], regs[rng.randint(k + 1)]);  // no order cue
            for (int k = 0; k < R; k++) std::copy(regs[k].begin(), regs[k].end(), ims.begin() + ((size_t)i * R + k) * F);
            // ---- the image's full content, and its descriptions ----
            std::vector<int> all = {C.scene(im.scene), C.rel(im.rel)}, seen;
            for (size_t o = 0; o < im.obj.size(); o++) { all.push_back(C.obj(im.obj[o])); all.push_back(C.colour(im.colour[o])); }
            for (int c : all) {
                bool is_rel = c >= C.rel(0) && c < C.scene(0);
                if (rng.uniform() < (is_rel ? 0.5f : 0.8f)) seen.push_back(c);
            }
            std::vector<float> d_cpm = embed(all, 0.6f, rng), d_flor = embed(seen, 0.9f, rng);
            if (std::string(sp.split) == "train") train_desc.push_back(d_cpm);
            for (int k = 0; k < 5; k++) {
                std::vector<int> said;
                std::string cap = caption(im, rels, rng, said);
                static const char* filler[] = {"in", "the", "picture", "with", "a", "view"};  // (no draw: the data stay the same)
                for (int w = 1 + (int)std::count(cap.begin(), cap.end(), ' '), f = 0; w < opt.caption_words; w++, f++)
                    cap += std::string(" ") + filler[f % 6];
                caps_txt += cap + "\n";
                std::vector<float> e = embed(said, 0.8f, rng);
                size_t row = ((size_t)i * 5 + k) * E;
                std::copy(e.begin(), e.end(), capemb.begin() + row);
                std::copy(d_cpm.begin(), d_cpm.end(), cpm.begin() + row);  // the same description on all 5 rows
                std::copy(d_flor.begin(), d_flor.end(), flor.begin() + row);
                if (std::string(sp.split) != "test") vocab_caps.push_back(cap);
            }
            // ids.txt's id is the key of id_mapping.json, as the reference's raw-image loader reads them
            int64_t id = 100000 + id_base + i;
            ids_txt += std::to_string(id) + "\n";
            const std::string picture = "demo_" + std::to_string(id) + ".png";
            mapping += (id_base + i ? ", " : "") + json_quote(std::to_string(id)) + ": " + json_quote(picture);
            if (opt.pictures) write_file_atomic(root + "/images/" + picture, draw_scene(im, rels));
        }
        id_base += N;
        const std::string s = sp.split, p = dir + "/" + s;
        npy_save_raw(p + "_ims.npy", "<f4", {N, R, F}, ims.data(), ims.size() * 4);
        write_file_atomic(p + "_caps.txt", caps_txt);
        write_file_atomic(p + "_ids.txt", ids_txt);
        if (s != "dev") {  // the release has VSD files for train and the test split only
            const int64_t rows = (int64_t)N * 5;
            npy_save_raw(p + "_cap_bge.npy", "<f4", {rows, E}, capemb.data(), capemb.size() * 4);
            npy_save_raw(p + "_cap_bge_cpm.npy", "<f4", {rows, E}, capemb.data(), capemb.size() * 4);
            npy_save_raw(dir + "/" + vsd_description_file(s, VsdSource::Cpm), "<f4", {rows, E}, cpm.data(), cpm.size() * 4);
            npy_save_raw(dir + "/" + vsd_description_file(s, VsdSource::Flor), "<f4", {rows, E}, flor.data(), flor.size() * 4);
        }
        if (s == "testall") {  // COCO's "test" is the first 1K of testall (here: its first fifth)
            const int n1 = N / 5;
            npy_save_raw(dir + "/test_ims.npy", "<f4", {n1, R, F}, ims.data(), (size_t)n1 * R * F * 4);
            size_t cut = 0;
            for (int k = 0; k < n1 * 5; k++) cut = caps_txt.find('\n', cut) + 1;
            write_file_atomic(dir + "/test_caps.txt", caps_txt.substr(0, cut));
            cut = 0;
            for (int k = 0; k < n1; k++) cut = ids_txt.find('\n', cut) + 1;
            write_file_atomic(dir + "/test_ids.txt", ids_txt.substr(0, cut));
        }
        if (opt.verbose) std::printf("  %-5s %5d images, %6d captions\n", sp.split, N, N * 5);
    }
    write_file_atomic(root + "/id_mapping.json", mapping + "}");
    // SCAN-style vocabulary from train + dev captions (as vocab.py)
    Vocab v = Vocab::build(vocab_caps, 4);
    v.save_json(opt.data_path + "/vocab/" + opt.name + "_precomp_vocab.json");
    // a small BERT for `make train TEXT=bert` on the demo: a word-level WordPiece vocabulary of the
    // demo's words and a 2-layer config; there are no pretrained weights, so training starts random
    make_dirs(root + "/bert");
    std::string bert_vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    Vocab all = Vocab::build(vocab_caps, 1);
    for (int i = 4; i < all.size(); i++) bert_vocab += all.word(i) + "\n";
    write_file_atomic(root + "/bert/vocab.txt", bert_vocab);
    write_file_atomic(root + "/bert/config.json",
                      strfmt("{\"architectures\": [\"BertModel\"], \"hidden_act\": \"gelu\", \"hidden_size\": 128, "
                             "\"intermediate_size\": 256, \"num_attention_heads\": 4, \"num_hidden_layers\": 2, "
                             "\"max_position_embeddings\": 64, \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12, "
                             "\"hidden_dropout_prob\": 0.1, \"vocab_size\": %d}\n", all.size() + 1));
    // a small CLIP for `make train MODEL=clip` on the demo, in an OpenCLIP folder's layout: the BPE
    // merges learned from the demo's captions (merges.txt) and a tiny ViT config (48 x 48 pictures,
    // 8 x 8 patches); no weights, so training starts from OpenCLIP's random initialisation
    make_dirs(root + "/CLIP");
    const std::vector<std::string> merges = learn_bpe(vocab_caps, 400);
    std::string merges_txt = "#version: 0.2\n";
    for (const std::string& m : merges) merges_txt += m + "\n";
    write_file_atomic(root + "/CLIP/merges.txt", merges_txt);
    write_file_atomic(root + "/CLIP/open_clip_config.json",
                      strfmt("{\"model_cfg\": {\"embed_dim\": %d, \"quick_gelu\": false,\n"
                             "  \"vision_cfg\": {\"image_size\": 48, \"patch_size\": 8, \"width\": 96, \"head_width\": 32, \"layers\": 3},\n"
                             "  \"text_cfg\": {\"context_length\": 32, \"vocab_size\": %zu, \"width\": 96, \"heads\": 3, \"layers\": 3}},\n"
                             " \"preprocess_cfg\": {\"mean\": [0.48145466, 0.4578275, 0.40821073], "
                             "\"std\": [0.26862954, 0.26130258, 0.27577711]}}\n", std::min(64, E), 512 + merges.size() + 2));
    // prototypes: k-means (K = 64) of the train † descriptions, one per image, exactly what
    // `make prototypes DATASET=demo` computes (same function, same seed)
    KMeansOptions km;
    km.K = std::min<int64_t>(64, (int64_t)train_desc.size());
    std::vector<float> X;
    for (const auto& d : train_desc) X.insert(X.end(), d.begin(), d.end());
    KMeansResult kr = kmeans(X.data(), (int64_t)train_desc.size(), E, km);
    const int K = (int)km.K;
    const std::string proto = root + "/proto/" + opt.name + "_minicpm_kmeans_centroids_" + std::to_string(K) + ".npy";
    npy_save_raw(proto, "<f4", {K, E}, kr.centroids.data(), kr.centroids.size() * 4);
    // and CLIP+VSD's: the same descriptions through the PCA to the demo CLIP's size, then k-means,
    // what `make prototypes MODEL=clip DATASET=demo` computes
    const int64_t Ec = std::min(64, E);
    const std::vector<float> cc = clip_prototypes(X.data(), (int64_t)train_desc.size(), E, Ec, K, 0, false);
    npy_save_raw(root + "/proto/" + clip_prototype_name(opt.name, K, Ec), "<f4", {K, Ec}, cc.data(), cc.size() * 4);
    write_file_atomic(marker, strfmt("seed %llu\n", (unsigned long long)opt.seed));
    if (opt.verbose) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("  vocab: %d words (%s/vocab/%s_precomp_vocab.json)\n  prototypes: %d centroids (%s)\n"
                    "wrote %s in %.1f s\n", v.size(), opt.data_path.c_str(), opt.name.c_str(), K, proto.c_str(),
                    dir.c_str(), secs);
    }
    return dir;
}

}  // namespace vsd
