import { createElement } from 'lwc';
import ExplainRecord from 'c/explainRecord';
import generate from '@salesforce/apex/ExplainRecordController.generate';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/ExplainRecordController.generate', () => ({ default: jest.fn() }), { virtual: true });

// The Flow screen event, with the attribute name and value the real one carries.
jest.mock(
    'lightning/flowSupport',
    () => ({
        FlowAttributeChangeEvent: class extends CustomEvent {
            constructor(attributeName, attributeValue) {
                super('lightning__flowattributechange', { bubbles: true, composed: true });
                this.attributeName = attributeName;
                this.attributeValue = attributeValue;
            }
        }
    }),
    { virtual: true }
);

const ANSWER = {
    text: 'Sample answer',
    generationId: 'generation-1',
    toxicityDetected: false,
    toxicityScore: 0,
    toxicityScores: {},
    outputs: { verdict: 'Keep', score: 42, volume: 42, price: 4.2, weight: 4.2, urgent: true, followUp: '2024-01-31', remindAt: '2024-01-31T12:30:00Z', assignee: '005000000000001AAA' }
};

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
    name: 'Sample Name',
    count: 42,
    big: 42,
    amount: 4.2,
    ratio: 4.2,
    active: true,
    due: '2024-01-31',
    seen: '2024-01-31T12:30:00.000Z',
    owner: '005000000000001AAA'
};

function render(properties = {}) {
    const element = createElement('c-explain-record', { is: ExplainRecord });
    Object.assign(element, properties);
    document.body.appendChild(element);
    return element;
}

function control(element, name) {
    const controls = element.shadowRoot.querySelectorAll('lightning-input, lightning-textarea, lightning-radio-group');
    return [...controls].find((found) => found.name === name);
}

function enter(element, name, property, value) {
    const target = control(element, name);
    target[property] = value;
    target.dispatchEvent(new CustomEvent('change'));
}

function button(element, label) {
    return [...element.shadowRoot.querySelectorAll('lightning-button')].find((found) => found.label === label);
}

function shown(element, selector) {
    return element.shadowRoot.querySelector(selector);
}

function fillInputs(element) {
    enter(element, 'name', 'value', 'Sample Name');
    enter(element, 'count', 'value', '42');
    enter(element, 'big', 'value', '42');
    enter(element, 'amount', 'value', '4.2');
    enter(element, 'ratio', 'value', '4.2');
    enter(element, 'active', 'checked', true);
    enter(element, 'due', 'value', '2024-01-31');
    enter(element, 'seen', 'value', '2024-01-31T12:30:00.000Z');
    enter(element, 'owner', 'value', '005000000000001AAA');
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    fillInputs(element);
    await flushPromises();
    button(element, 'Generate').click();
    await flushPromises();
}

describe('c-explain-record', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Explain Record');
        expect(control(element, 'name').label).toBe('Name');
        expect(control(element, 'name').required).toBe(true);
        expect(control(element, 'count').label).toBe('Count');
        expect(control(element, 'count').required).toBe(true);
        expect(control(element, 'big').label).toBe('Big');
        expect(control(element, 'amount').label).toBe('Amount');
        expect(control(element, 'ratio').label).toBe('Ratio');
        expect(control(element, 'active').label).toBe('Active');
        expect(control(element, 'due').label).toBe('Due');
        expect(control(element, 'seen').label).toBe('Seen');
        expect(control(element, 'owner').label).toBe('Owner Id');
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('waits for the required inputs before it can send', async () => {
        const element = render();

        expect(button(element, 'Generate').disabled).toBe(true);
        fillInputs(element);
        await flushPromises();
        expect(button(element, 'Generate').disabled).toBe(false);
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        generate.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish(ANSWER);
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('sends the inputs and shows the answer', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        expect(generate).toHaveBeenCalledWith(EXPECTED_INPUTS);
        expect(shown(element, '.answer').value).toBe('Sample answer');
        expect(shown(element, '.toxicity')).toBeNull();
        expect(shown(element, '.error')).toBeNull();
    });

    it('flags an answer the Trust Layer found toxic', async () => {
        generate.mockResolvedValue({ ...ANSWER, toxicityDetected: true, toxicityScore: 0.91 });
        const element = render();

        await send(element);

        expect(shown(element, '.toxicity')).not.toBeNull();
    });

    it('tells a Flow screen about the answer and its outputs', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render({ availableActions: ['NEXT', 'BACK'] });
        const changes = [];
        element.addEventListener('lightning__flowattributechange', (event) => changes.push([event.attributeName, event.attributeValue]));

        await send(element);

        expect(changes).toEqual([
            ['answerText', 'Sample answer'],
            ['verdict', ANSWER.outputs.verdict],
            ['score', ANSWER.outputs.score],
            ['urgent', ANSWER.outputs.urgent],
            ['remindAt', ANSWER.outputs.remindAt],
            ['assignee', ANSWER.outputs.assignee]
        ]);
        expect(element.answerText).toBe('Sample answer');
    });

    it('fires no Flow event outside a Flow screen', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();
        const changes = [];
        element.addEventListener('lightning__flowattributechange', (event) => changes.push(event.attributeName));

        await send(element);

        expect(changes).toEqual([]);
        expect(element.answerText).toBe('Sample answer');
    });

    it('keeps a Flow screen from going on until there is an answer', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render({ availableActions: ['NEXT'] });

        expect(element.validate()).toEqual({ isValid: false, errorMessage: 'Get an answer with Generate before you go on.' });
        await send(element);
        expect(element.validate()).toEqual({ isValid: true });
    });

    it('shows each output of the answer with its label', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        const shownOutputs = [...element.shadowRoot.querySelectorAll('.outputs div')].map((row) => [
            row.querySelector('dt').textContent,
            row.querySelector('dd').textContent
        ]);
        expect(shownOutputs).toEqual([
            ['Verdict', String(ANSWER.outputs.verdict)],
            ['Score', String(ANSWER.outputs.score)],
            ['Volume', String(ANSWER.outputs.volume)],
            ['Price', String(ANSWER.outputs.price)],
            ['Weight', String(ANSWER.outputs.weight)],
            ['Urgent', String(ANSWER.outputs.urgent)],
            ['Follow-up Date', String(ANSWER.outputs.followUp)],
            ['Remind At', String(ANSWER.outputs.remindAt)],
            ['Assignee', String(ANSWER.outputs.assignee)]
        ]);
    });

    it('shows the message of a failed call', async () => {
        generate.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('refuses Name over 4000 characters with a message, before any call', async () => {
        const element = render();
        fillInputs(element);
        enter(element, 'name', 'value', 'x'.repeat(4001));
        await flushPromises();

        button(element, 'Generate').click();
        await flushPromises();

        expect(generate).not.toHaveBeenCalled();
        expect(shown(element, '.error').textContent).toBe('Name is too long: at most 4000 characters');
        expect(control(element, 'name').maxLength).toBe('4000');
    });

    it('takes its inputs from a Flow screen or a parent component', () => {
        const element = render({ name: 'Sample Name' });

        expect(control(element, 'name').value).toBe('Sample Name');
    });

    it('fills Owner Id with the record of a record page until the user types another', async () => {
        const element = render({ recordId: '001000000000001AAA' });

        expect(control(element, 'owner').value).toBe('001000000000001AAA');
        element.recordId = '001000000000002AAA';
        await flushPromises();
        expect(control(element, 'owner').value).toBe('001000000000002AAA');
        enter(element, 'owner', 'value', '005000000000001AAA');
        element.recordId = '001000000000003AAA';
        await flushPromises();
        expect(control(element, 'owner').value).toBe('005000000000001AAA');
    });
});
