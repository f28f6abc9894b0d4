//! `logops-keygen`.

use logops_gateway::pii::Crypt;

use crate::util::{cmd, run};

const EXE: &str = env!("CARGO_BIN_EXE_logops-keygen");

#[test]
fn prints_a_fresh_valid_key_and_the_env_line() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(&mut cmd(EXE, tmp.path()), b"");
    let b = run(&mut cmd(EXE, tmp.path()), b"");
    assert_eq!(a.code, 0, "{a:?}");
    let key = a.stdout.trim_end();
    assert_eq!(a.stdout, format!("{key}\n"));
    assert_ne!(key, b.stdout.trim_end(), "two runs gave the same key");
    let crypt = Crypt::from_key_list(key).expect("a valid Fernet key");
    assert_eq!(crypt.decrypt(&crypt.encrypt(b"x")).unwrap(), b"x");
    assert!(
        a.stderr.contains(&format!("\nLOGOPS_SECRET_KEY={key}\n")),
        "{a:?}"
    );

    let line = run(cmd(EXE, tmp.path()).arg("--env-line"), b"");
    let key = line
        .stdout
        .trim_end()
        .strip_prefix("LOGOPS_SECRET_KEY=")
        .expect("env line");
    assert!(Crypt::from_key_list(key).is_ok());
    assert_eq!(line.stderr, "");
}
