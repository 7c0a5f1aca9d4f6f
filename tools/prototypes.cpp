// prototypes — VSD's prototype centroids: k-means over the training description embeddings, one
// row per image (row 5i of <split>_aux_cap_bge_cpm_full.npy), written as
// <data_path>/<dataset>/proto/<dataset>_minicpm_kmeans_centroids_<K>.npy.
//   make prototypes DATASET=f30k K=896
#include <sys/stat.h>

#include <cstdio>

#include "../src/core/check.h"
#include "../src/core/flags.h"
#include "../src/data/dataset.h"
#include "../src/data/npy.h"
#include "../src/nn/clip.h"
#include "../src/train/kmeans.h"
#include "../src/train/pca.h"

using namespace vsd;

static int body(int argc, char** argv) {
    DatasetOptions o;
    std::string vsd = "cpm", out = "";
    KMeansOptions km;
    km.K = 896;
    km.max_iter = 100;
    km.verbose = true;
    Flags f("prototypes", "k-means centroids of the training descriptions (one row per image)");
    f.add("data_path", &o.data_path, "folder holding <dataset>/precomp");
    f.add("dataset", &o.dataset, "f30k, coco or demo");
    f.add("vsd", &vsd, "descriptions to cluster: cpm (the release's centroids are MiniCPM's) or flor");
    f.add("K", &km.K, "number of centroids (896 for f30k, 2560 for coco in the release)");
    f.add("max_iter", &km.max_iter, "Lloyd iterations at most");
    f.add("seed", &km.seed, "seed of the k-means++ initialisation");
    f.add("out", &out, "output file (default <data_path>/<dataset>/proto/<dataset>_minicpm_kmeans_centroids_<K>.npy)");
    std::string clip_path;
    f.add("clip_path", &clip_path, "CLIP+VSD: the CLIP folder whose embedding size the descriptions are reduced to (PCA, "
                                   "then k-means; auto: <data_path>/<dataset>/CLIP, else CLIP); the file is then "
                                   "<dataset>_minicpm_kmeans_centroids_<K>_clip<E>.npy");
    if (!f.parse(argc, argv)) return 0;
    o.split = "train";
    o.vsd = parse_vsd_source(vsd);
    ENSURE(o.vsd != VsdSource::None, "--vsd must be cpm or flor");
    PrecompDataset d = PrecompDataset::open(o);
    const int64_t N = d.n_img, D = d.desc_emb->shape[1];
    std::vector<float> X(N * D);
    for (int64_t i = 0; i < N; i++) {  // the description of image i sits on its caption rows; take row i * im_div
        Tensor row = d.desc_emb->rows_tensor(i * d.im_div, 1, DType::F32);
        std::copy(row.data(), row.data() + D, X.begin() + i * D);
    }
    std::printf("k-means: %lld descriptions of %s (%lld-d), K = %lld, seed %llu\n", (long long)N, d.desc_file.c_str(),
                (long long)D, (long long)km.K, (unsigned long long)km.seed);
    if (!clip_path.empty()) {  // CLIP+VSD: the PCA to CLIP's size, then k-means (src/train/pca.h)
        if (clip_path == "auto") {
            struct stat st;
            clip_path = stat((o.data_path + "/" + o.dataset + "/CLIP/open_clip_config.json").c_str(), &st) == 0
                            ? o.data_path + "/" + o.dataset + "/CLIP" : "CLIP";
        }
        const int64_t E = ClipConfig::from_json_file(clip_path + "/open_clip_config.json").embed_dim;
        ENSURE(E <= D, "%s: CLIP's embedding (%lld) is wider than the descriptions (%lld)", clip_path.c_str(), (long long)E,
               (long long)D);
        std::printf("CLIP+VSD: PCA %lld -> %lld (CLIP %s), then k-means\n", (long long)D, (long long)E, clip_path.c_str());
        const std::vector<float> c = clip_prototypes(X.data(), N, D, E, km.K, km.seed, true);
        if (out.empty()) {
            const std::string dir = o.data_path + "/" + o.dataset + "/proto";
            mkdir(dir.c_str(), 0755);
            out = dir + "/" + clip_prototype_name(o.dataset, km.K, E);
        }
        npy_save_raw(out, "<f4", {km.K, E}, c.data(), c.size() * 4);
        std::printf("wrote %s\n", out.c_str());
        return 0;
    }
    KMeansResult r = kmeans(X.data(), N, D, km);
    if (out.empty()) {
        std::string dir = o.data_path + "/" + o.dataset + "/proto";
        mkdir(dir.c_str(), 0755);
        out = dir + "/" + o.dataset + (o.vsd == VsdSource::Cpm ? "_minicpm" : "_florence") + "_kmeans_centroids_" +
              std::to_string(km.K) + ".npy";
    }
    npy_save_raw(out, "<f4", {km.K, D}, r.centroids.data(), r.centroids.size() * 4);
    std::printf("inertia per iteration:");
    for (double v : r.inertia) std::printf(" %.6g", v);
    std::printf("\n%d iterations (%s), %d empty clusters re-seeded; wrote %s\n", r.iterations,
                r.converged ? "converged" : "stopped at --max_iter", r.reseeded, out.c_str());
    return 0;
}

int main(int argc, char** argv) { return run_main(body, argc, argv); }
