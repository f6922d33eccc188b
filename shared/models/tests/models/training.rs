//! Training on crops with a planted effect: a bright sphere whose radius and portal-phase washout
//! grow with a latent h that drives the hazard. The network must find it on patients it never saw,
//! give the same weights for the same seed, and resume from a checkpoint to the same end.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tacefusion_models::checkpoint::Checkpoint;
use tacefusion_models::train::{cosine_rate, init_network, load_network, network_record};
use tacefusion_models::{CpuTraining, CropSet, NetworkConfig, Ties, TrainConfig, TrainError, score, train};
use tacefusion_survival::{SurvivalData, harrell_c};

const SIZE: usize = 16;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `n` patients: crops `[2, 16, 16, 16]`, survival with log hazard 1.5 h, and h itself.
fn cohort(n: usize, seed: u64) -> (CropSet, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut set = CropSet::new([2, SIZE, SIZE, SIZE]);
    let mut hs = Vec::new();
    for i in 0..n {
        let h = normal(&mut rng);
        let radius = (3.5 + 1.2 * h).clamp(1.5, 6.5);
        let centre = [7.5 + rng.random::<f64>() - 0.5, 7.5 + rng.random::<f64>() - 0.5, 7.5 + rng.random::<f64>() - 0.5];
        let mut voxels = vec![0f32; 2 * SIZE * SIZE * SIZE];
        for a in 0..SIZE {
            for b in 0..SIZE {
                for c in 0..SIZE {
                    let d = ((a as f64 - centre[0]).powi(2) + (b as f64 - centre[1]).powi(2) + (c as f64 - centre[2]).powi(2)).sqrt();
                    let inside = d <= radius;
                    let at = (a * SIZE + b) * SIZE + c;
                    voxels[at] = (if inside { 0.7 } else { 0.3 } + 0.05 * normal(&mut rng)) as f32;
                    voxels[SIZE * SIZE * SIZE + at] = (if inside { 0.55 - 0.12 * h } else { 0.35 } + 0.05 * normal(&mut rng)) as f32;
                }
            }
        }
        let hazard = (1.5 * h).exp() / 20.0;
        let t = -rng.random::<f64>().max(1e-12).ln() / hazard;
        let censor = 5.0 + 55.0 * rng.random::<f64>();
        let (time, event) = if t <= censor { (t, true) } else { (censor, false) };
        set.push(&format!("P{i:03}"), &[2, SIZE, SIZE, SIZE], &voxels, Some(((time * 100.0).round() / 100.0, event))).unwrap();
        hs.push(h);
    }
    (set, hs)
}

fn config(epochs: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        network: NetworkConfig { channels: 2, width: 4, depth: 2 },
        epochs,
        schedule_epochs: None,
        batch_size: 16,
        learning_rate: 3e-3,
        weight_decay: 1e-4,
        augmentation: 0.3,
        patience: 4,
        seed,
        ties: Ties::Efron,
    }
}

fn c_index(set: &CropSet, risk: &[f64]) -> f64 {
    harrell_c(&SurvivalData::new(set.time.clone(), set.event.clone()).unwrap(), risk).unwrap().c_index
}

#[test]
fn finds_the_planted_effect_in_patients_it_never_saw() {
    let (training, _) = cohort(128, 1);
    let (validation, _) = cohort(64, 2);
    let (test, h) = cohort(96, 3);
    let device = Default::default();
    let trained = train::<CpuTraining>(&device, &config(12, 1), &training, Some(&validation), None, &mut |_| Ok(())).unwrap();
    let (risk, features) = score(&trained.network, &test, 32, &device);
    assert_eq!(features.len(), test.len());
    assert_eq!(features[0].len(), 4 << 1);
    let oracle = c_index(&test, &h);
    let learned = c_index(&test, &risk);
    let history: Vec<_> = trained.history.iter().map(|e| (e.loss, e.validation_c)).collect();
    eprintln!("oracle C {oracle:.3}, network C {learned:.3}, best {:?}, history {history:?}", trained.best);
    assert!(learned > 0.68 && learned > oracle - 0.12, "network C {learned:.3} (oracle {oracle:.3})");
    // the returned network is the best epoch's
    let best_c = trained.history.iter().filter_map(|e| e.validation_c).fold(f64::MIN, f64::max);
    assert_eq!(trained.best.map(|b| b.1), Some(best_c));
    let (again, _) = score(&trained.network, &validation, 7, &device);
    assert!((c_index(&validation, &again) - best_c).abs() < 1e-9, "scoring in other batch sizes gives the chosen epoch's C");
}

#[test]
fn same_seed_same_network_and_a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let (training, _) = cohort(40, 4);
    let (validation, _) = cohort(24, 5);
    let device = Default::default();
    let run = |seed: u64, resume: Option<&Checkpoint>, stop_after: Option<usize>, saved: &mut Vec<Checkpoint>| {
        train::<CpuTraining>(&device, &config(4, seed), &training, Some(&validation), resume, &mut |c| {
            if stop_after.is_some_and(|s| c.meta.epochs_done > s) {
                return Err("the worker died".into());
            }
            saved.push(Checkpoint::from_bytes(&c.to_bytes()).unwrap());
            Ok(())
        })
    };
    let mut saved = Vec::new();
    let whole = run(7, None, None, &mut saved).unwrap();
    assert_eq!(saved.len(), whole.history.len());
    let twice = run(7, None, None, &mut Vec::new()).unwrap();
    assert_eq!(whole.network.weights(), twice.network.weights(), "same seed, same weights");
    assert_eq!(whole.history, twice.history);
    let other = run(8, None, None, &mut Vec::new()).unwrap();
    assert_ne!(whole.network.weights(), other.network.weights(), "another seed starts elsewhere");
    // two tasks of one worker train side by side (the backend's generator is process-wide)
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(7, None, None, &mut Vec::new()).unwrap());
        let b = s.spawn(|| run(8, None, None, &mut Vec::new()).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a.network.weights(), whole.network.weights(), "seed 7 beside seed 8");
    assert_eq!(b.network.weights(), other.network.weights(), "seed 8 beside seed 7");

    let mut partial = Vec::new();
    let died = run(7, None, Some(2), &mut partial).unwrap_err();
    assert!(matches!(died, TrainError::Save { epoch: 2, .. }), "{died}");
    assert_eq!(partial.len(), 2);
    let resumed = run(7, Some(&partial[1]), None, &mut Vec::new()).unwrap();
    assert_eq!(resumed.network.weights(), whole.network.weights(), "resumed from epoch 2, same end");
    // the history of the first two epochs came through the checkpoint's JSON: equal to the last bits
    // serde_json keeps
    assert_eq!(resumed.history.len(), whole.history.len());
    for (a, b) in resumed.history.iter().zip(&whole.history) {
        assert_eq!((a.epoch, a.learning_rate), (b.epoch, b.learning_rate));
        assert!((a.loss - b.loss).abs() < 1e-12 && (a.validation_c.unwrap() - b.validation_c.unwrap()).abs() < 1e-12, "{a:?} vs {b:?}");
    }

    let mut other_config = config(4, 7);
    other_config.learning_rate = 1e-2;
    let refused = train::<CpuTraining>(&device, &other_config, &training, None, Some(&partial[1]), &mut |_| Ok(())).unwrap_err();
    assert!(refused.to_string().contains("another configuration"), "{refused}");
}

#[test]
fn loading_a_network_beside_a_seeded_start_leaves_the_start_alone() {
    // a worker scoring or resuming (load_network) while another task starts training: the load's
    // fresh network must not draw from the generator the start has just seeded
    let device = Default::default();
    let network = NetworkConfig { channels: 2, width: 4, depth: 2 };
    let want = init_network::<CpuTraining>(&network, 7, &device).weights();
    let record = network_record(&init_network::<CpuTraining>(&network, 8, &device)).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                load_network::<CpuTraining>(&network, &record, &device).unwrap();
            }
        });
        for round in 0..200 {
            let got = init_network::<CpuTraining>(&network, 7, &device).weights();
            if got != want {
                done.store(true, std::sync::atomic::Ordering::Relaxed);
                panic!("round {round}: seed 7's start changed while a network was being loaded");
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn bad_settings_and_data_are_refused() {
    let (training, _) = cohort(8, 6);
    let device = Default::default();
    let mut c = config(1, 1);
    c.batch_size = 1;
    let e = train::<CpuTraining>(&device, &c, &training, None, None, &mut |_| Ok(())).unwrap_err();
    assert!(e.to_string().contains("batch_size"), "{e}");
    let mut censored = training.clone();
    censored.event.iter_mut().for_each(|e| *e = false);
    let e = train::<CpuTraining>(&device, &config(1, 1), &censored, None, None, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(e, TrainError::NoEvents { n: 8, .. }), "{e}");
    let mut short = training.clone();
    short.time.pop();
    assert!(matches!(train::<CpuTraining>(&device, &config(1, 1), &short, None, None, &mut |_| Ok(())), Err(TrainError::Data(_))));
    // an empty validation set (a fold without patients) is no validation, not an error
    let nobody = CropSet::new([2, SIZE, SIZE, SIZE]);
    let c = config(1, 1);
    let trained = train::<CpuTraining>(&device, &c, &training, Some(&nobody), None, &mut |_| Ok(())).unwrap();
    assert_eq!(trained.history[0].validation_c, None);
    // a survival time that cannot be used, and settings that train nothing, are named
    let mut bad_time = training.clone();
    bad_time.time[3] = f64::NAN;
    let e = train::<CpuTraining>(&device, &config(1, 1), &bad_time, None, None, &mut |_| Ok(())).unwrap_err().to_string();
    assert!(e.contains("patient P003") && e.contains("survival time NaN"), "{e}");
    for (epochs, width) in [(0, 4), (1, 0)] {
        let mut c = config(epochs, 1);
        c.network.width = width;
        let e = train::<CpuTraining>(&device, &c, &training, None, None, &mut |_| Ok(())).unwrap_err().to_string();
        assert!(e.contains("epochs and width"), "{e}");
    }
}

#[test]
fn the_schedule_counts_the_batches_it_skips() {
    // 17 patients in batches of 16: the second batch (one patient) never runs, but it is a step
    // of the schedule, so epoch 2 starts half way down the cosine (it started a quarter down)
    let (training, _) = cohort(17, 8);
    let device = Default::default();
    let c = config(2, 1);
    let trained = train::<CpuTraining>(&device, &c, &training, None, None, &mut |_| Ok(())).unwrap();
    let rates: Vec<f64> = trained.history.iter().map(|e| e.learning_rate).collect();
    let want = [cosine_rate(c.learning_rate, 0, 4), cosine_rate(c.learning_rate, 2, 4)];
    assert!(rates.iter().zip(want).all(|(r, w)| (r - w).abs() < 1e-12), "{rates:?} vs {want:?}");
    // a final run stopped at epoch 2 of a 4-epoch schedule follows that schedule
    let stopped = TrainConfig { schedule_epochs: Some(4), ..c };
    let trained = train::<CpuTraining>(&device, &stopped, &training, None, None, &mut |_| Ok(())).unwrap();
    let rates: Vec<f64> = trained.history.iter().map(|e| e.learning_rate).collect();
    let want = [cosine_rate(c.learning_rate, 0, 8), cosine_rate(c.learning_rate, 2, 8)];
    assert!(rates.iter().zip(want).all(|(r, w)| (r - w).abs() < 1e-12), "{rates:?} vs {want:?}");
}
