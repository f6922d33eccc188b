//! The CT network: a 3D ResNet-style CNN over the two contrast phases (arterial, portal-venous) as
//! channels of one tumour-centred volume, a global mean over the spatial axes and a linear Cox risk
//! head without intercept. The pooled vector is the patient's deep features.
//!
//! burn 0.21 has `Conv3d` but no 3D pooling module, so each residual stage halves the grid with a
//! stride-2 convolution (its shortcut a stride-2 1x1x1 convolution) and the pooling is a mean over
//! the spatial axes. Group normalisation instead of batch normalisation: a patient's score does not
//! depend on which patients share its batch, in training or in scoring.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig3d};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

/// The shape of the network (from the study's `[train]` settings and the crop size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Input channels: one per CT phase.
    pub channels: usize,
    /// Channels of the stem; stage `i` has `width * 2^i`.
    pub width: usize,
    /// Residual stages, each halving the grid.
    pub depth: usize,
}

impl NetworkConfig {
    /// Number of deep features (channels of the last stage).
    pub fn features(&self) -> usize {
        self.width << self.depth.saturating_sub(1)
    }

    /// Builds the network with freshly initialised weights (burn's default initialisers, drawn
    /// from the backend's generator: seed it first, see `train::init_network`). Every weight is
    /// drawn here, not at first use as burn would, so that the draws happen where the caller seeded.
    pub fn init<B: Backend>(&self, device: &B::Device) -> ResNet3d<B> {
        let stem = ConvNorm::new(self.channels, self.width, 3, 1, device);
        let mut stages = Vec::with_capacity(self.depth);
        let mut channels = self.width;
        for i in 0..self.depth {
            let out = self.width << i;
            stages.push(ResidualBlock::new(channels, out, device));
            channels = out;
        }
        let head = LinearConfig::new(channels, 1).with_bias(false).init(device);
        let network = ResNet3d { stem, stages, head };
        network.visit(&mut Materialize);
        network
    }
}

/// Number of normalisation groups for `channels`: the largest of 8, 4, 2, 1 that divides it.
fn groups(channels: usize) -> usize {
    [8, 4, 2, 1].into_iter().find(|g| channels.is_multiple_of(*g) && *g <= channels).unwrap_or(1)
}

/// Convolution followed by group normalisation.
#[derive(Module, Debug)]
pub struct ConvNorm<B: Backend> {
    conv: Conv3d<B>,
    norm: GroupNorm<B>,
}

impl<B: Backend> ConvNorm<B> {
    fn new(input: usize, output: usize, kernel: usize, stride: usize, device: &B::Device) -> Self {
        let pad = kernel / 2;
        let conv = Conv3dConfig::new([input, output], [kernel; 3])
            .with_stride([stride; 3])
            .with_padding(PaddingConfig3d::Explicit(pad, pad, pad))
            .with_bias(false)
            .init(device);
        let norm = GroupNormConfig::new(groups(output), output).init(device);
        Self { conv, norm }
    }

    fn forward(&self, x: Tensor<B, 5>) -> Tensor<B, 5> {
        self.norm.forward(self.conv.forward(x))
    }
}

/// A residual stage: two 3x3x3 convolutions, the first with stride 2, and a stride-2 1x1x1 shortcut.
#[derive(Module, Debug)]
pub struct ResidualBlock<B: Backend> {
    first: ConvNorm<B>,
    second: ConvNorm<B>,
    shortcut: ConvNorm<B>,
}

impl<B: Backend> ResidualBlock<B> {
    fn new(input: usize, output: usize, device: &B::Device) -> Self {
        Self {
            first: ConvNorm::new(input, output, 3, 2, device),
            second: ConvNorm::new(output, output, 3, 1, device),
            shortcut: ConvNorm::new(input, output, 1, 2, device),
        }
    }

    fn forward(&self, x: Tensor<B, 5>) -> Tensor<B, 5> {
        let main = self.second.forward(relu(self.first.forward(x.clone())));
        relu(main + self.shortcut.forward(x))
    }
}

/// The network.
#[derive(Module, Debug)]
pub struct ResNet3d<B: Backend> {
    stem: ConvNorm<B>,
    stages: Vec<ResidualBlock<B>>,
    head: Linear<B>,
}

impl<B: Backend> ResNet3d<B> {
    /// Deep features `[batch, features]` of crops `[batch, channels, depth, height, width]`.
    pub fn features(&self, crops: Tensor<B, 5>) -> Tensor<B, 2> {
        let mut x = relu(self.stem.forward(crops));
        for stage in &self.stages {
            x = stage.forward(x);
        }
        let [batch, channels, ..] = x.dims();
        x.mean_dim(4).mean_dim(3).mean_dim(2).reshape([batch, channels])
    }

    /// Risk scores `[batch]` (log relative hazards) from deep features.
    pub fn risk_from_features(&self, features: Tensor<B, 2>) -> Tensor<B, 1> {
        let [batch, _] = features.dims();
        self.head.forward(features).reshape([batch])
    }

    /// Risk scores `[batch]` of crops.
    pub fn forward(&self, crops: Tensor<B, 5>) -> Tensor<B, 1> {
        self.risk_from_features(self.features(crops))
    }
}

/// Forces every float parameter into existence (burn initialises parameters lazily, at first use).
struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

/// Collects every float parameter's values in module order.
struct Weights(Vec<f32>);

impl<B: Backend> ModuleVisitor<B> for Weights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.extend(param.val().into_data().to_vec::<f32>().expect("f32 weights"));
    }
}

impl<B: Backend> ResNet3d<B> {
    /// Every weight, in module order: what makes two networks the same (their records also carry
    /// parameter ids, which are random).
    pub fn weights(&self) -> Vec<f32> {
        let mut w = Weights(Vec::new());
        self.visit(&mut w);
        w.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Shape};

    #[test]
    fn shapes_follow_the_settings() {
        type B = burn_flex::Flex;
        let device = Default::default();
        for (width, depth, size) in [(4, 1, 8), (4, 3, 16), (8, 2, 12)] {
            let config = NetworkConfig { channels: 2, width, depth };
            let net = config.init::<B>(&device);
            let x = Tensor::<B, 5>::random(Shape::new([3, 2, size, size, size]), Distribution::Default, &device);
            assert_eq!(net.features(x.clone()).dims(), [3, config.features()]);
            assert_eq!(net.forward(x).dims(), [3]);
        }
    }
}
