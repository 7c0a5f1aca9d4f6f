// dataset.h — the precomputed ("precomp") datasets, in the VSD release's layout, validated on open.
//
//   <data_path>/<dataset>/precomp/<split>_{ims.npy, caps.txt, ids.txt}       VSD / GPO layout
//   <data_path>/<dataset>_precomp/<split>_...                                 SCAN / HREM layout
//   VSD embeddings beside them (SPEC 1.2), all caption-indexed [N_cap, D]:
//     description, MiniCPM-V (†):  train_aux_cap_bge_cpm_full.npy, <test>_aux_cap_bge_cpm_full_1.npy
//     description, Florence-2 (⋆): <split>_aux_cap_bge_flor_det.npy
//     caption itself:              <split>_cap_bge.npy (or <split>_cap_bge_cpm.npy, HREM+VSD's name)
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
    bool caption_embeddings = false;  // load <split>_cap_bge.npy (text side of VSD); implied by vsd
    bool truncate_dev = true;         // dev -> first 5000 captions, as the reference
};

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

    int64_t image_of(int64_t cap) const { return cap / im_div; }
    std::string summary() const;  // one table line per file
};

// Locate the precomp folder for a dataset; the error lists every place that was tried.
std::string find_precomp_dir(const std::string& data_path, const std::string& dataset, const std::string& split);

// Read a caption file: one caption per line, UTF-8, no empty lines (a final newline is fine).
std::vector<std::string> read_captions(const std::string& path);

}  // namespace vsd
