//! `semaphore check -c` on a collector's config, and the Meraki URL from a flag or the environment winning
//! over the file's.

use crate::support::{Broker, Simulate, all_output, semaphore, temp_dir};

use super::write_config;

/// `check -c`: a valid config is reported and its Meraki reached; a typo fails with exit code 2, naming the
/// key and its line.
#[test]
fn check_validates_a_config_and_names_mistakes() {
    let simulator = Simulate::start(&[]);
    let broker = Broker::start();
    let setup = write_config("check", &simulator, &broker.address, "");
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&setup.config)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(
        text.contains("valid")
            && text.contains("meraki_uplinks (meraki_uplinks -> meraki.uplinks.loss_latency)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Kafka at {}: reached", broker.address)),
        "{text}"
    );
    assert!(text.contains("Meraki: reached"), "{text}");
    std::fs::write(
        &setup.config,
        "[[sources.meraki_uplinks]]\ninterval_s = 60\nintreval_s = 5\n",
    )
    .unwrap();
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&setup.config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(
        text.contains("line 3") && text.contains("unknown field `intreval_s`"),
        "{text}"
    );
    // A broker address Kafka cannot have is a config error naming the key, not an unreachable Kafka.
    std::fs::write(
        &setup.config,
        "[kafka]\nbrokers = \"127.0.0.1:65536\"\n[[sources.meraki_uplinks]]\n",
    )
    .unwrap();
    let output = semaphore()
        .args(["check", "-c"])
        .arg(&setup.config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let text = all_output(&output);
    assert!(text.contains("kafka.brokers") && text.contains("65535"), "{text}");
    std::fs::remove_dir_all(&setup.directory).unwrap();
}

/// README's Quick start: the example config says `url = "global"`, and `--meraki-url` or
/// `SEMAPHORE_MERAKI_URL` must still win over it.
#[test]
fn flags_and_environment_override_the_files_meraki_url() {
    let simulator = Simulate::start(&["--appliances", "2"]);
    let data = temp_dir("meraki-url");
    let config = data.join("semaphore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[meraki]\nurl = \"global\"\n[admin]\nlisten = \"\"\n[[sources.meraki_uplinks]]\n[outputs.stdout]\n",
            data.join("state")
        ),
    )
    .unwrap();
    let reached = format!("Meraki: reached {}", simulator.base_url);
    let by_flag = semaphore()
        .args(["check", "-c"])
        .arg(&config)
        .args(["--meraki-url", &simulator.base_url])
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(by_flag.status.success(), "{}", all_output(&by_flag));
    assert!(
        all_output(&by_flag).contains(&reached),
        "{}",
        all_output(&by_flag)
    );
    let by_environment = semaphore()
        .args(["check", "-c"])
        .arg(&config)
        .env("SEMAPHORE_MERAKI_URL", &simulator.base_url)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(
        all_output(&by_environment).contains(&reached),
        "{}",
        all_output(&by_environment)
    );
    let run = semaphore()
        .args(["run", "--once", "-c"])
        .arg(&config)
        .env("SEMAPHORE_MERAKI_URL", &simulator.base_url)
        .env("MERAKI_DASHBOARD_API_KEY", "test-key")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", all_output(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("\"serial\""),
        "run --once wrote the simulator's samples: {}",
        all_output(&run)
    );
    std::fs::remove_dir_all(&data).unwrap();
}
