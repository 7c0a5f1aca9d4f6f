// search (src/train/search.*): the index kept in the run folder, the three queries, the errors.
#include <fstream>

#include "../kernels/backend.h"
#include "../src/data/json.h"
#include "../src/train/search.h"
#include "helpers.h"

static TrainConfig search_config(const std::string& data, const std::string& run, const std::string& vsd) {
    TrainConfig c;
    c.data_path = data;
    c.dataset = "demo";
    c.text_encoder = "bigru";
    c.vsd = vsd;
    c.logger_name = run;
    c.img_dim = 64, c.embed_size = 32, c.word_dim = 8, c.batch_size = 16, c.num_epochs = 1;  // 200 captions: 13 steps
    c.validate = false;
    c.progress = false;
    c.tensorboard = false;
    return c;
}

TEST_CASE("search: the index is built once, reused, and rebuilt for a new checkpoint; answers agree with eval's ranks") {
    const std::string data = small_demo_dataset("search", 40, 12, 64, 32);
    TrainConfig c = search_config(data, temp_dir("search_run"), "none");
    train(c);
    SearchOptions o;
    o.run = c.logger_name;
    o.progress = false;
    {
        Searcher s(o);
        CHECK(s.index_was_built());
        CHECK(s.n_img() == 12);
        CHECK(s.n_cap() == 60);
        CHECK(file_exists(c.logger_name + "/index_test/images.npy"));
        const Json meta = Json::parse_file(c.logger_name + "/index_test/index.json");
        CHECK(meta["image_ids"][0].as_string() == "100060");  // the test split follows 40 train and 20 dev images
    }
    Searcher s(o);
    CHECK_FALSE(s.index_was_built());  // the same checkpoint: reused
    // text: k hits, best first
    SearchAnswer a = s.text("a man riding a bike", 4);
    REQUIRE(a.hits.size() == 4);
    for (size_t r = 1; r < a.hits.size(); r++) CHECK(a.hits[r - 1].score >= a.hits[r].score);
    // caption queries: the rank of the caption's own image is eval's t2i rank (+1), from the same embeddings
    const Tensor I = npy_load(c.logger_name + "/index_test/images.npy"), C = npy_load(c.logger_name + "/index_test/captions.npy");
    Embeddings e;
    e.n_img = 12, e.n_cap = 60, e.E = I.size(1), e.img = I.to_vector(), e.cap = C.to_vector();
    const QueryRanks q = query_ranks(similarities(e), 12, 60, 5);
    for (int64_t cap : {0, 7, 33, 59}) {
        CAPTURE(cap);
        const SearchAnswer b = s.caption(cap, 12);
        CHECK(b.correct_rank == q.t2i[cap] + 1);
        int marked = 0;
        for (size_t r = 0; r < b.hits.size(); r++)
            if (b.hits[r].correct) { marked++; CHECK((int64_t)r + 1 == b.correct_rank); }
        CHECK(marked == 1);
    }
    // image queries: its own captions are marked, and the best of them ranks where eval says
    const SearchAnswer im = s.image(3, 60);
    int64_t first_own = -1;
    for (size_t r = 0; r < im.hits.size(); r++)
        if (im.hits[r].correct && first_own < 0) first_own = (int64_t)r;
    CHECK(first_own == q.i2t[3]);
    // the table names the file (the demo's picture) and the JSON is one object
    CHECK(s.table(a).find("demo_1000") != std::string::npos);
    CHECK(s.json(im).rfind("{\"kind\": \"image\"", 0) == 0);
    // bad queries: one clear error each
    CHECK_THROWS_WITH(s.text("   ", 5), doctest::Contains("the query is empty"));
    CHECK_THROWS_WITH(s.image(12, 5), doctest::Contains("no image 12 in the test split"));
    CHECK_THROWS_WITH(s.caption(-1, 5), doctest::Contains("no caption -1"));
    // an image by its dataset id: the demo's test ids follow its train and dev images (100000 + 40 + 20)
    CHECK(s.image_index_of("100063") == 3);
    CHECK_THROWS_WITH(s.image_index_of("42"), doctest::Contains("no image with id 42"));
    // on a device (the emulator here; --device cuda on a GPU): the same answer
    {
        SearchOptions od = o;
        od.device = "emulator";
        Searcher se(od);
        const SearchAnswer ae = se.text("a man riding a bike", 4);
        REQUIRE(ae.hits.size() == 4);
        for (size_t r = 0; r < 4; r++) CHECK(ae.hits[r].score == doctest::Approx(a.hits[r].score).epsilon(1e-4));
    }
    use_emulated_device(false);  // back to the CPU-only process state for the tests that follow
    // a new checkpoint (trained again): the index is rebuilt
    c.seed = 9;
    train(c);
    Searcher s2(o);
    CHECK(s2.index_was_built());
    // no model in the run folder
    SearchOptions none = o;
    none.run = temp_dir("search_empty");
    CHECK_THROWS_WITH(Searcher{none}, doctest::Contains("no model to search with"));
}

TEST_CASE("search: a VSD model says that free text needs a BGE embedding, and where to get one") {
    const std::string data = small_demo_dataset("search_vsd", 40, 10, 64, 32);
    TrainConfig c = search_config(data, temp_dir("search_vsd_run"), "cpm");
    c.embed_size = 32;  // the demo's BGE size: VSD adds them
    train(c);
    SearchOptions o;
    o.run = c.logger_name;
    o.progress = false;
    Searcher s(o);
    CHECK_THROWS_WITH(s.text("a dog", 5), doctest::Contains("needs one too"));
    CHECK_THROWS_WITH(s.text("a dog", 5), doctest::Contains("tools/embed"));
    CHECK(s.caption(4, 3).hits.size() == 3);  // the split's own captions carry their embeddings: fine
}

TEST_CASE("search: a VSD model embeds free text with a BGE folder (--bge_path; here a tiny BERT of the embeddings' size)") {
    const std::string data = toy_demo("search_bge", 40, 10);  // 8-d VSD embeddings, as tiny_bert's hidden size
    TrainConfig c = search_config(data, temp_dir("search_bge_run"), "cpm");
    c.img_dim = 16, c.embed_size = 8;
    train(c);
    SearchOptions o;
    o.run = c.logger_name;
    o.progress = false;
    o.bge_path = fixture("torch/tiny_bert");
    Searcher s(o);
    const SearchAnswer a = s.text("a dog on the beach", 3);
    REQUIRE(a.hits.size() == 3);
    CHECK(a.hits[0].score >= a.hits[1].score);
    CHECK(a.hits[1].score >= a.hits[2].score);
    // a BGE folder without weights: one clear error
    o.bge_path = temp_dir("search_bge_empty");
    std::ofstream(o.bge_path + "/config.json") << "{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
                                                  "\"intermediate_size\": 16, \"vocab_size\": 30, \"max_position_embeddings\": 16}";
    std::ofstream(o.bge_path + "/vocab.txt") << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ndog\n";
    Searcher s2(o);
    CHECK_THROWS_WITH(s2.text("a dog", 3), doctest::Contains("no model weights"));
}
