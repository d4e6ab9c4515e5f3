//! Co-partition groups: what joins declare and the assignor receives.

use crate::processor::{Processor, ProcessorContext};
use crate::record::Record;
use crate::serde::StringSerde;
use crate::topology::TopologyBuilder;

struct Pass;

impl Processor<String, String, String, String> for Pass {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), crate::error::BoxError> {
        ctx.forward(record)?;
        Ok(())
    }
}

#[test]
fn a_join_s_inputs_are_one_copartition_group_of_their_source_topics(
) -> Result<(), Box<dyn std::error::Error>> {
    let mut b = TopologyBuilder::new();
    let l = b.add_source::<String, String>("L", &["left"], StringSerde, StringSerde)?;
    let r = b.add_source::<String, String>("R", &["right"], StringSerde, StringSerde)?;
    let lp = b.add_processor::<String, String, String, String, _, _>("LP", &[&l], || Pass)?;
    let _j = b.add_processor::<String, String, String, String, _, _>("J", &[&lp, &r], || Pass)?;
    b.copartition_sources(&["LP", "R"]);
    let t = b.build()?;
    assert_eq!(
        t.copartition_groups(),
        &[vec!["left".to_owned(), "right".to_owned()]]
    );
    let info = t.topology_info("app")?;
    let groups: Vec<_> = info
        .subtopologies
        .iter()
        .flat_map(|s| s.copartition_groups.clone())
        .collect();
    assert_eq!(groups, vec![vec!["left".to_owned(), "right".to_owned()]]);

    let mut b = TopologyBuilder::new();
    b.add_source::<String, String>("L", &["left"], StringSerde, StringSerde)?;
    b.copartition_sources(&["L", "nowhere"]);
    assert!(b.build().is_err());
    Ok(())
}
