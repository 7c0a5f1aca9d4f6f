// encoders.h — the image and text encoders of GPO (paper-notes §2.2, 2.3).
// B batch, R regions (<= 36), F region feature size (2048), L tokens, E embedding size (1024).
#pragma once
#include "bert.h"
#include "gpo.h"

namespace vsd {

// MLP(2048 -> 512 -> 1024) of vse_infty: Linear, BN, ReLU, Linear. A second BatchNorm (bns.1)
// exists in the reference's state_dict but is never applied; we keep it for exact state dicts.
class MLP2 : public Module {
public:
    MLP2(int64_t in, int64_t hidden, int64_t out, Rng& rng);
    Tensor forward(const Tensor& x);  // (B, R, in) -> (B, R, out); BN over the B*R rows, padding included
    Linear l0, l1;
    BatchNorm1d bn0, bn1_unused;
    int64_t out_dim;
};

// GPO image encoder on precomputed regions (EncoderImageAggr, precomp_enc_type "basic"):
//   phi = fc(x) + mlp(x)  (B, R, E);  v = l2n(GPO(phi, lengths))
// Init: fc weight U(+-sqrt(6/(F+E))), bias 0; the MLP and GPO keep PyTorch's defaults.
class ImageEncoderGPO : public Module {
public:
    ImageEncoderGPO(int64_t img_dim, int64_t embed, Rng& rng);
    Tensor forward(const Tensor& images, const Tensor& lengths);
    Linear fc;
    MLP2 mlp;
    GPO gpool;
};

// GPO BiGRU text encoder (vse_infty@bigru EncoderText):
//   x = Embedding(V, 300) (init U(+-0.1));  h = (GRU_fwd + GRU_bwd) / 2 (300 -> E);  u = l2n(GPO(h))
class TextEncoderBiGRU : public Module {
public:
    TextEncoderBiGRU(int64_t vocab, int64_t word_dim, int64_t embed, Rng& rng);
    Tensor forward(const Tensor& tokens, const Tensor& lengths);
    Embedding embed;
    GRU rnn;
    GPO gpool;
};

// GPO BERT text encoder (vse_infty EncoderText, paper-notes §2.3):
//   H = BERT(ids).last_hidden_state (B, L, hidden);  psi = Linear(hidden -> E)(H);  u = l2n(GPO(psi, L_c))
// GPO pools over every token, [CLS] and [SEP] included. The pooler is unused.
class TextEncoderBERT : public Module {
public:
    TextEncoderBERT(const BertConfig& bc, int64_t embed, Rng& rng);
    Tensor forward(const Tensor& tokens, const Tensor& lengths, Rng* dropout_rng);
    Bert bert;
    Linear linear;
    GPO gpool;
};

}  // namespace vsd
