// dataset.h — the precomputed ("precomp") datasets, in the VSD release's layout, validated on open.
//
//   <data_path>/<dataset>/precomp/<split>_{ims.npy, caps.txt, ids.txt}       VSD / GPO layout
//   <data_path>/<dataset>_precomp/<split>_...                                 SCAN / HREM layout
//   VSD embeddings beside them (paper-notes §1.2), all caption-indexed [N_cap, D]. Each split reads exactly
//   the file the reference's loader reads, never a look-alike (a near miss is an error naming both):
//     description, MiniCPM-V (†):  train_aux_cap_bge_cpm_full.npy, <test>_aux_cap_bge_cpm_full_1.npy
//     description, Florence-2 (⋆): <split>_aux_cap_bge_flor_det.npy
//     caption itself:              <split>_cap_bge.npy (GPO+VSD), <split>_cap_bge_cpm.npy (HREM+VSD)
//   The release ships them for train and test/testall only, never for dev.
//
// Sample = caption index c; its image is c / im_div, with im_div = 5 when there are 5 captions per
// image and 1 when counts are equal (the reference's rule). The dev split is truncated to its first
// 5,000 captions, as the reference does. Region features stay memory-mapped.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "npy.h"

namespace vsd {

enum class VsdSource { None, Cpm, Flor };
const char* vsd_source_name(VsdSource s);         // "none", "cpm", "flor"
VsdSource parse_vsd_source(const std::string& s);  // throws on anything else

struct DatasetOptions {
    std::string data_path = "data";
    std::string dataset = "f30k";
    std::string split = "train";
    VsdSource vsd = VsdSource::None;  // which description embeddings to load (image side)
    bool caption_embeddings = false;  // load the caption embeddings (text side of VSD); implied by vsd
    std::string cap_emb_name = "cap_bge";  // <split>_<this>.npy: cap_bge (GPO+VSD) or cap_bge_cpm (HREM+VSD)
    bool vsd_optional = false;        // a split without any of its VSD files opens without them (dev)
    bool truncate_dev = true;         // dev -> first 5000 captions, as the reference
    bool verbose = false;             // print one line per file opened
    // false: the raw-image models (CLIP) read the pictures, not <split>_ims.npy; the image count
    // then comes from <split>_ids.txt (one line per image, or per caption in runs of 5)
    bool features = true;
};

// The file names the reference reads for a split (paper-notes §1.2): the description embeddings of `vsd`
// and the caption embeddings called cap_emb_name ("cap_bge" or "cap_bge_cpm").
std::string vsd_description_file(const std::string& split, VsdSource vsd);
std::string vsd_caption_file(const std::string& split, const std::string& cap_emb_name);

class PrecompDataset {
public:
    static PrecompDataset open(const DatasetOptions& opt);

    std::string dir;    // the precomp folder that was found
    std::string split;
    NpyArray ims;       // (n_img, n_regions, feat_dim), memory-mapped
    std::vector<std::string> caps;  // all captions of the file
    int64_t n_img = 0, n_cap = 0, im_div = 1, n_regions = 0, feat_dim = 0;
    int64_t length = 0;  // samples (captions) used: n_cap, or 5000 for a truncated dev split
    std::optional<NpyArray> desc_emb;  // description embedding per caption row (N_cap, D)
    std::optional<NpyArray> cap_emb;   // caption embedding per caption row (N_cap, D)
    std::string desc_file, cap_emb_file;
    std::vector<std::string> vsd_absent;  // with vsd_optional: the VSD files this split does not have
    std::vector<std::string> opened;      // every file opened, in order

    int64_t image_of(int64_t cap) const { return cap / im_div; }
    std::string summary() const;  // one table line per file
};

// Find <proto_path>/<dataset>_minicpm_kmeans_centroids_<K>.npy (K > 0). K == 0: the release's file
// for f30k/coco (K 896/2560) when present, otherwise the only <dataset>_..._<digits>.npy there
// (the release's *_pca512.npy variant is not a candidate). The error says what was looked for.
std::string find_prototype_file(const std::string& proto_path, const std::string& dataset, int64_t K);

// Locate the precomp folder for a dataset; the error lists every place that was tried.
std::string find_precomp_dir(const std::string& data_path, const std::string& dataset, const std::string& split);

// The raw image files of a split, when the dataset folder has them (only pictures in reports use
// them; the model reads the precomputed features): image i is <split>_ids.txt's line i (one line per
// image, or per caption), looked up in <dataset>/id_mapping.json, in <dataset>/images/ (the VSD
// release's layout) or <dataset>/flickr30k-images/ (vse_infty's). "" for an image whose file is
// absent; all "" when ids.txt or the mapping is.
std::vector<std::string> image_files(const PrecompDataset& d);
// The dataset id of each image of a split (<split>_ids.txt), "" when the file is absent.
std::vector<std::string> image_ids(const PrecompDataset& d);

// Read a caption file: one caption per line, UTF-8, no empty lines (a final newline is fine).
std::vector<std::string> read_captions(const std::string& path);

}  // namespace vsd
