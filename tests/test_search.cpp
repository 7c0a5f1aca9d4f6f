// search (src/train/search.*): the index kept in the run folder, the three queries, the errors.
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
